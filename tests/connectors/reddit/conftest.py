import pytest

from apps.connectors.kinds import ChannelKind
from apps.connectors.reddit import connector as reddit_connector
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process
from tests.factories import BrandFactory, ChannelFactory
from tests.fakes.reddit import FakeReddit


@pytest.fixture(autouse=True)
def _no_cached_tokens():
    reddit_connector._tokens.clear()
    yield
    reddit_connector._tokens.clear()


@pytest.fixture
def fake_reddit():
    with FakeReddit() as fake:
        yield fake


@pytest.fixture
def nimbus(org_a):
    return BrandFactory(
        organization=org_a, name="Nimbus Mobile", keywords=["Nimbus"], handles=["u/NimbusMobileCare"]
    )


@pytest.fixture
def reddit_channel(nimbus, fake_reddit):
    return ChannelFactory(
        brand=nimbus,
        kind=ChannelKind.REDDIT,
        name="Nimbus on Reddit",
        credentials={
            "client_id": fake_reddit.client_id,
            "client_secret": fake_reddit.client_secret,
            "username": fake_reddit.username,
            "password": fake_reddit.password,
        },
        settings={"auth_base": fake_reddit.url, "api_base": fake_reddit.url},
    )


@pytest.fixture
def offline_channel(nimbus):
    """A Reddit channel for parsing only (no fake server to start)."""
    return ChannelFactory(
        brand=nimbus, kind=ChannelKind.REDDIT, credentials={"username": "NimbusMobileCare"}, settings={}
    )


@pytest.fixture
def process_payloads():
    """Process every received payload of a channel, newest first (workers may run them in any order)."""

    def _process(channel) -> int:
        ids = list(
            RawPayload.objects.filter(channel=channel, status=RawPayload.Status.RECEIVED)
            .order_by("-pk")
            .values_list("pk", flat=True)
        )
        for payload_id in ids:
            payload_process(payload_id=payload_id)
        return len(ids)

    return _process
