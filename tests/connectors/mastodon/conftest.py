from apps.connectors.kinds import ChannelKind
from tests.connectors.social import platform_fixtures
from tests.fakes.mastodon import FakeMastodon

nimbus, fake_mastodon, mastodon_channel, offline_channel = platform_fixtures(
    ChannelKind.MASTODON,
    FakeMastodon,
    handles=["@nimbus@mastodon.example"],
    connect=lambda fake: {
        "credentials": {"access_token": fake.access_token},
        "settings": {"instance": fake.url},
    },
    offline={"settings": {"instance": "https://mastodon.social"}},
)
