from apps.connectors.bluesky import connector as bluesky_connector
from apps.connectors.kinds import ChannelKind
from tests.connectors.social import platform_fixtures
from tests.fakes.bluesky import FakeBluesky

nimbus, fake_bluesky, bluesky_channel, offline_channel = platform_fixtures(
    ChannelKind.BLUESKY,
    FakeBluesky,
    handles=["@nimbus.bsky.social"],
    connect=lambda fake: {
        "credentials": {"identifier": fake.handle, "app_password": fake.app_password},
        "settings": {"service": fake.url},
    },
    forget=bluesky_connector._sessions,
)
