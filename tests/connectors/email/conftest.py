import itertools
import secrets
from dataclasses import dataclass

import pytest

from apps.connectors.kinds import ChannelKind
from tests.factories import ChannelFactory
from tests.fakes.mailserver import DOVECOT_MISSING, DovecotServer, SMTPServer, TestCA, dovecot_binary

BRAND_ADDRESS = "support@nimbus.test"
_users = itertools.count(1)


@pytest.fixture(scope="session")
def test_ca():
    return TestCA()


@pytest.fixture(scope="session")
def dovecot(test_ca):
    if dovecot_binary() is None:
        pytest.skip(DOVECOT_MISSING)
    with DovecotServer(test_ca) as server:
        yield server


@dataclass
class Mailbox:
    server: DovecotServer
    username: str
    password: str

    def deliver(self, raw: bytes, mailbox: str = "INBOX") -> int:
        return self.server.deliver(self.username, self.password, raw, mailbox)


@pytest.fixture
def mailbox(dovecot):
    """A fresh IMAP account of its own for each test."""
    box = Mailbox(dovecot, f"support{next(_users)}", secrets.token_urlsafe(12))
    dovecot.add_user(box.username, box.password)
    return box


@pytest.fixture
def imap_channel(brand_a, mailbox):
    """An email channel reading the test's mailbox over plain IMAP on 127.0.0.1."""
    return ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.EMAIL,
        settings={
            "host": "127.0.0.1",
            "port": mailbox.server.port,
            "security": "none",
            "from_address": BRAND_ADDRESS,
        },
        credentials={"username": mailbox.username, "password": mailbox.password},
    )


@pytest.fixture
def smtp_server():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def smtp_channel(brand_a, smtp_server):
    return ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.EMAIL,
        settings={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
            "from_address": BRAND_ADDRESS,
        },
    )


def ingest(channel, raw: bytes):
    """Store one raw mail as the poller would, then run it through the pipeline; returns its message."""
    from apps.conversations.models import Message
    from apps.ingestion.models import RawPayload
    from apps.ingestion.services import payload_process, payload_receive

    payload = payload_receive(
        channel=channel, source=RawPayload.Source.POLL, body=raw, content_type="message/rfc822"
    ).payload
    payload = payload_process(payload_id=payload.pk)
    assert payload.status == RawPayload.Status.PROCESSED, payload.rejection_reason
    return Message.objects.filter(raw_payload=payload).select_related("conversation").get()
