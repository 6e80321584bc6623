import pytest

from apps.connectors.kinds import ChannelKind
from apps.connectors.youtube.api import forget_tokens
from tests.factories import ChannelFactory
from tests.fakes.youtube import API_KEY, BRAND_CHANNEL, FakeYouTube

NOWHERE = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def _no_refreshed_tokens():
    forget_tokens()
    yield
    forget_tokens()


@pytest.fixture
def youtube_channel(brand_a):
    return ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.YOUTUBE,
        credentials={"api_key": API_KEY},
        settings={"channel_id": BRAND_CHANNEL, "api_base": NOWHERE, "token_url": NOWHERE},
    )


@pytest.fixture
def youtube(youtube_channel):
    """The fake Data API and OAuth token endpoint, with the channel pointed at them."""
    with FakeYouTube() as fake:
        youtube_channel.settings = {
            **youtube_channel.settings,
            "api_base": fake.api_url,
            "token_url": fake.token_url,
        }
        youtube_channel.save()
        yield fake
