import pytest

from apps.connectors.kinds import ChannelKind
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process
from tests.factories import BrandFactory, ChannelFactory
from tests.fakes.mastodon import FakeMastodon


@pytest.fixture
def fake_mastodon():
    with FakeMastodon() as fake:
        yield fake


@pytest.fixture
def nimbus(org_a):
    return BrandFactory(
        organization=org_a, name="Nimbus Mobile", keywords=["Nimbus"], handles=["@nimbus@mastodon.example"]
    )


@pytest.fixture
def mastodon_channel(nimbus, fake_mastodon):
    return ChannelFactory(
        brand=nimbus,
        kind=ChannelKind.MASTODON,
        name="Nimbus on Mastodon",
        credentials={"access_token": fake_mastodon.access_token},
        settings={"instance": fake_mastodon.url},
    )


@pytest.fixture
def offline_channel(nimbus):
    """A Mastodon channel for parsing only (no fake server to start)."""
    return ChannelFactory(
        brand=nimbus, kind=ChannelKind.MASTODON, settings={"instance": "https://mastodon.social"}
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
