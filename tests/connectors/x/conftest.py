from apps.connectors.kinds import ChannelKind
from tests.connectors.social import platform_fixtures
from tests.fakes.x import FakeX

nimbus, fake_x, x_channel, offline_channel = platform_fixtures(
    ChannelKind.X,
    FakeX,
    handles=["@nimbusmobile", "care@nimbus.example"],
    connect=lambda fake: {
        "credentials": {"bearer_token": fake.bearer_token, "user_access_token": fake.user_access_token},
        "settings": {"api_base": fake.url, "user_id": fake.brand_user_id},
    },
    offline={"settings": {"user_id": "2244994945"}},
)
