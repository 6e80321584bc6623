"""The entry points the corpus goes through: IMAP (dovecot), the feed site, the polled platforms."""

import pytest

from apps.connectors.bluesky import connector as bluesky_connector
from apps.connectors.reddit import connector as reddit_connector
from tests.connectors.email.conftest import dovecot, mailbox, test_ca  # noqa: F401
from tests.connectors.feeds.conftest import running_site, site  # noqa: F401
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.reddit import FakeReddit
from tests.fakes.x import FakeX


@pytest.fixture
def platforms():
    """The polled platforms' fakes, serving what each corpus case gives them."""
    caches = (reddit_connector._tokens, bluesky_connector._sessions)
    for cache in caches:  # tokens another fake issued mean nothing to these
        cache.clear()
    with FakeX() as x, FakeMastodon() as mastodon, FakeReddit() as reddit, FakeBluesky() as bluesky:
        yield {"x": x, "mastodon": mastodon, "reddit": reddit, "bluesky": bluesky}
    for cache in caches:
        cache.clear()
