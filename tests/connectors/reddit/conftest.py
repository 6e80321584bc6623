from apps.connectors.kinds import ChannelKind
from apps.connectors.reddit import connector as reddit_connector
from tests.connectors.social import platform_fixtures
from tests.fakes.reddit import FakeReddit

nimbus, fake_reddit, reddit_channel, offline_channel = platform_fixtures(
    ChannelKind.REDDIT,
    FakeReddit,
    handles=["u/NimbusMobileCare"],
    connect=lambda fake: {
        "credentials": {
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "username": fake.username,
            "password": fake.password,
        },
        "settings": {"auth_base": fake.url, "api_base": fake.url},
    },
    offline={"credentials": {"username": "NimbusMobileCare"}, "settings": {}},
    forget=reddit_connector._tokens,
)
