import json
import time

import pytest

from apps.accounts.models import Role
from apps.automation import receivers, services
from apps.customers.kinds import ChannelKind
from tests.factories import ChannelFactory, membership_create
from tests.fakes.http import FakeHTTPServer, Response
from tests.fakes.telegram import TOKEN, FakeTelegram

SECRET = "tg-secret_automation"


@pytest.fixture(autouse=True)
def fresh_caches():
    services.rules_cache_clear()
    receivers.interest_clear()
    yield
    services.rules_cache_clear()
    receivers.interest_clear()


@pytest.fixture
def worker_env(monkeypatch):
    # The worker is another process: it reads its settings from the environment. The webhook receiver and
    # the fake Bot API listen on 127.0.0.1, which production refuses (SSRF); tests allow it.
    monkeypatch.setenv("CXM_ALLOW_PRIVATE_DESTINATIONS", "1")
    monkeypatch.setenv("CXM_CLASSIFY_ON_ARRIVAL", "0")


@pytest.fixture
def admin(org_a):
    return membership_create(org_a, Role.ADMIN)


@pytest.fixture
def agent(org_a):
    return membership_create(org_a, Role.COMMUNITY_MANAGER)


@pytest.fixture
def telegram_channel(brand_a):
    return ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.TELEGRAM,
        name="Support bot",
        credentials={"bot_token": TOKEN, "webhook_secret": SECRET},
        settings={"api_base": "http://127.0.0.1:9"},
    )


@pytest.fixture
def telegram(telegram_channel):
    """The fake Bot API, with the channel pointed at it."""
    with FakeTelegram(token=TOKEN) as fake:
        telegram_channel.settings = {"api_base": fake.url}
        telegram_channel.save()
        yield fake


@pytest.fixture
def post_update(client):
    """POST an Update to the channel's webhook URL, signed with Telegram's secret-token header."""

    def _post(channel, update):
        return client.post(
            f"/hooks/{channel.webhook_token}/",
            json.dumps(update).encode(),
            content_type="application/json",
            HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=SECRET,
        )

    return _post


class Receiver(FakeHTTPServer):
    """A real HTTP server on 127.0.0.1 standing for a customer's system, recording each POST to /hook."""

    def __init__(self):
        super().__init__()
        self.route("POST", "/hook", lambda request: Response(200, {"ok": True}))

    @property
    def hook_url(self) -> str:
        return f"{self.url}/hook"


@pytest.fixture
def receiver():
    with Receiver() as server:
        yield server


def wait_for(condition, timeout: float = 120, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return result
