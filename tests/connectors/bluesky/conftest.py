import pytest

from apps.connectors.bluesky import connector as bluesky_connector
from apps.connectors.kinds import ChannelKind
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process
from tests.factories import BrandFactory, ChannelFactory
from tests.fakes.bluesky import FakeBluesky


@pytest.fixture(autouse=True)
def _no_cached_sessions():
    bluesky_connector._sessions.clear()
    yield
    bluesky_connector._sessions.clear()


@pytest.fixture
def fake_bluesky():
    with FakeBluesky() as fake:
        yield fake


@pytest.fixture
def nimbus(org_a):
    return BrandFactory(
        organization=org_a, name="Nimbus Mobile", keywords=["Nimbus"], handles=["@nimbus.bsky.social"]
    )


@pytest.fixture
def bluesky_channel(nimbus, fake_bluesky):
    return ChannelFactory(
        brand=nimbus,
        kind=ChannelKind.BLUESKY,
        name="Nimbus on Bluesky",
        credentials={"identifier": fake_bluesky.handle, "app_password": fake_bluesky.app_password},
        settings={"service": fake_bluesky.url},
    )


@pytest.fixture
def offline_channel(nimbus):
    """A Bluesky channel for parsing only (no fake server to start)."""
    return ChannelFactory(brand=nimbus, kind=ChannelKind.BLUESKY)


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
