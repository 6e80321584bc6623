import pytest

from apps.accounts.models import Role
from apps.webhooks import services
from tests.factories import membership_create
from tests.fakes.http import FakeHTTPServer, Response


class Receiver(FakeHTTPServer):
    """A real HTTP server on 127.0.0.1 standing for a customer's system: records each POST to /hooks and
    answers what the test queued in `answers` (then 200)."""

    def __init__(self):
        super().__init__()
        self.answers: list[Response] = []
        self.route("POST", "/hooks", self._answer)

    def _answer(self, request):
        return self.answers.pop(0) if self.answers else Response(200, {"ok": True})

    @property
    def hook_url(self) -> str:
        return f"{self.url}/hooks"


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


@pytest.fixture(autouse=True)
def private_urls_allowed(settings):
    # The receiver listens on 127.0.0.1, which production refuses (SSRF); tests allow it.
    settings.CXM_ALLOW_PRIVATE_DESTINATIONS = True
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 30
    settings.WEBHOOKS_MAX_ATTEMPTS = 8


@pytest.fixture
def org_admin(org_a):
    return membership_create(org_a, role=Role.ADMIN)


@pytest.fixture
def endpoint_and_secret(org_a, org_admin, receiver):
    return services.endpoint_create(
        organization=org_a,
        url=receiver.hook_url,
        events=["alert.raised", "note.created", "message.created"],
        description="Our incident bot",
        actor=org_admin.user,
    )


@pytest.fixture
def endpoint(endpoint_and_secret):
    return endpoint_and_secret[0]
