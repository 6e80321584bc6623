import pytest

from apps.connectors.kinds import ChannelKind
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process
from tests.factories import BrandFactory, ChannelFactory
from tests.fakes.x import FakeX


@pytest.fixture
def fake_x():
    with FakeX() as fake:
        yield fake


@pytest.fixture
def nimbus(org_a):
    return BrandFactory(
        organization=org_a,
        name="Nimbus Mobile",
        keywords=["Nimbus"],
        handles=["@nimbusmobile", "care@nimbus.example"],
    )


@pytest.fixture
def x_channel(nimbus, fake_x):
    return ChannelFactory(
        brand=nimbus,
        kind=ChannelKind.X,
        name="Nimbus on X",
        credentials={"bearer_token": fake_x.bearer_token, "user_access_token": fake_x.user_access_token},
        settings={"api_base": fake_x.url, "user_id": fake_x.brand_user_id},
    )


@pytest.fixture
def offline_channel(nimbus):
    """An X channel for parsing only (no fake server to start)."""
    return ChannelFactory(brand=nimbus, kind=ChannelKind.X, settings={"user_id": "2244994945"})


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
