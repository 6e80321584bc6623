# The fixtures of the entry points the corpus goes through: the IMAP server (dovecot) and the feed site.
from tests.connectors.email.conftest import dovecot, mailbox, test_ca  # noqa: F401
from tests.connectors.feeds.conftest import running_site, site  # noqa: F401
