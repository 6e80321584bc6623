"""One guard on every connection to a destination that a tenant configures (apps.core.outbound): IMAP,
SMTP, HTTP (feeds, platform APIs, webhook endpoints). With private destinations not allowed (production), a
host on 127.0.0.1 — or a name that resolves there — is refused before any socket connects, so that "Test
connection" cannot scan CXM's own ports. The tests' fakes need 127.0.0.1, so only these tests turn the
allowance off; the listener below counts the connections it gets (none may arrive)."""

import socket
import threading
import time
from email.message import EmailMessage

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.base import PayloadRejected
from apps.connectors.email.config import SmtpConfig
from apps.connectors.email.smtp import _deliver
from apps.connectors.kinds import ChannelKind
from apps.connectors.services import channel_test
from apps.core.outbound import DestinationRefused, address_is_public, untrusted_destination
from apps.webhooks.models import WebhookDelivery
from apps.webhooks.services import delivery_attempt
from tests.factories import ChannelFactory, membership_create

pytestmark = pytest.mark.django_db


class Listener:
    """A TCP port on 127.0.0.1 that counts who connects (a port "Test connection" would probe)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listener():
    port = Listener()
    yield port
    port.close()


@pytest.fixture
def production(settings):
    settings.CXM_ALLOW_PRIVATE_DESTINATIONS = False


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::ffff:127.0.0.1"])
def test_test_connection_of_an_imap_channel_on_a_local_port_is_refused(
    production, listener, client, org_a, brand_a, host
):
    channel = ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.EMAIL,
        settings={"host": host, "port": listener.port, "security": "none", "from_address": "a@b.example"},
        credentials={"username": "u", "password": "p"},
    )
    client.force_login(membership_create(org_a, Role.ADMIN).user)
    page = client.post(reverse("connectors:test", args=[channel.pk]), follow=True).content.decode()
    assert "private, loopback or reserved address" in page
    assert listener.connections == 0


def test_smtp_to_a_local_port_is_refused(production, listener, brand_a):
    channel = ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.EMAIL,
        settings={
            "smtp_host": "localhost",
            "smtp_port": listener.port,
            "smtp_security": "none",
            "from_address": "support@brand.example",
        },
    )
    with pytest.raises(PayloadRejected, match="private, loopback or reserved"):
        _deliver(SmtpConfig.from_channel(channel), EmailMessage(), ["ana@example.com"])
    assert listener.connections == 0


def test_a_feed_on_a_local_port_is_refused(production, listener, brand_a):
    feed = ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.FEED,
        settings={"feeds": [f"http://localhost:{listener.port}/feed.xml"]},
    )
    ok, reason = channel_test(channel=feed)
    assert not ok and "private, loopback or reserved address" in reason
    assert listener.connections == 0


def test_the_guard_checks_the_address_connected_to_not_a_name(production, listener):
    """Whatever name was resolved (and however its DNS answers later), the socket's own address decides."""
    with untrusted_destination("a test destination"), pytest.raises(DestinationRefused):
        socket.create_connection(("127.0.0.1", listener.port), timeout=2)
    with pytest.raises(DestinationRefused), untrusted_destination("a test destination"):
        socket.create_connection(("localhost", listener.port), timeout=2)
    # Outside the guard (CXM's own services: PostgreSQL, Redis), private addresses stay reachable.
    socket.create_connection(("127.0.0.1", listener.port), timeout=2).close()
    assert address_is_public("93.184.216.34") and not address_is_public("10.0.0.1")
    assert not address_is_public("169.254.169.254") and not address_is_public("::ffff:10.0.0.1")
    assert not address_is_public("100.64.0.1") and not address_is_public("224.0.0.1")


def test_a_webhook_endpoint_saved_earlier_is_refused_at_send_time(settings, listener, org_a):
    from apps.webhooks import services

    admin = membership_create(org_a, role=Role.ADMIN)
    endpoint, _ = services.endpoint_create(
        organization=org_a,
        url=f"http://127.0.0.1:{listener.port}/hooks",
        events=["alert.raised"],
        actor=admin.user,
    )
    delivery = WebhookDelivery.objects.create(
        organization=org_a, endpoint=endpoint, event="alert.raised", payload={"x": 1}
    )
    settings.CXM_ALLOW_PRIVATE_DESTINATIONS = False
    delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.error.startswith("refused:") and "127.0.0.1" in delivery.error
    assert listener.connections == 0


def test_with_private_destinations_allowed_the_same_connection_is_made(listener):
    with untrusted_destination("a test destination"):
        socket.create_connection(("127.0.0.1", listener.port), timeout=2).close()
    deadline = time.monotonic() + 2
    while listener.connections == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert listener.connections == 1
