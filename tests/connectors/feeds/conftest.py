import pytest

from apps.connectors.kinds import ChannelKind
from tests.factories import BrandFactory, ChannelFactory
from tests.fakes.feeds import FeedSite


@pytest.fixture(scope="session")
def running_site():
    with FeedSite() as running:
        yield running


@pytest.fixture
def site(running_site):
    running_site.reset()
    return running_site


@pytest.fixture
def brand(org_a):
    return BrandFactory(
        organization=org_a, name="Nimbus", keywords=["Nimbus", "Nimbus Mobile"], handles=["@nimbus"]
    )


@pytest.fixture
def feed_channel(brand, site):
    """A channel of the given kind reading the given paths of the fake site."""

    def _channel(*paths, kind=ChannelKind.FEED, **settings):
        return ChannelFactory(
            brand=brand, kind=kind, settings={"feeds": [site.url(path) for path in paths], **settings}
        )

    return _channel
