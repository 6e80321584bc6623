"""IMAP polling against a real dovecot on 127.0.0.1: cursor, UIDVALIDITY, TLS, errors."""

import pytest

from apps.connectors.base import PayloadRejected, TransientError
from apps.connectors.email.connector import EmailConnector
from apps.connectors.email.imap import imap_utf7
from apps.connectors.models import Channel
from apps.ingestion.models import RawPayload
from apps.ingestion.polling import channel_poll
from tests.connectors.email.samples import mail
from tests.factories import ChannelFactory
from tests.fakes.mailserver import free_port

pytestmark = pytest.mark.django_db

connector = EmailConnector()


def _reconfigure(channel, **settings):
    channel.settings = {**channel.settings, **settings}
    channel.save()
    return channel


def test_a_poll_fetches_each_new_message_as_raw_rfc822(imap_channel, mailbox):
    raws = [mail(message_id=f"<m{n}@example.com>", body=f"message number {n}") for n in (1, 2, 3)]
    for raw in raws:
        mailbox.deliver(raw)

    result = connector.fetch(imap_channel)

    assert [item.external_id for item in result.items] == [
        "<m1@example.com>",
        "<m2@example.com>",
        "<m3@example.com>",
    ]
    assert [item.body for item in result.items] == raws
    assert {item.content_type for item in result.items} == {"message/rfc822"}
    assert result.cursor == {
        "mailbox": "INBOX",
        "uidvalidity": mailbox.server.uidvalidity(mailbox.username, mailbox.password),
        "last_uid": 3,
    }


def test_the_cursor_advances_so_a_second_poll_fetches_nothing(imap_channel, mailbox):
    mailbox.deliver(mail(message_id="<first@example.com>"))

    assert channel_poll(channel_id=imap_channel.pk) == 1
    imap_channel.refresh_from_db()
    assert imap_channel.cursor["last_uid"] == 1
    # UID 2:* still matches UID 1 when it is the highest: the connector must not return it again.
    assert connector.fetch(imap_channel).items == []
    assert channel_poll(channel_id=imap_channel.pk) == 0

    mailbox.deliver(mail(message_id="<second@example.com>"))
    assert channel_poll(channel_id=imap_channel.pk) == 1
    payloads = RawPayload.objects.filter(channel=imap_channel).order_by("pk")
    assert list(payloads.values_list("external_id", "source", "content_type")) == [
        ("<first@example.com>", "poll", "message/rfc822"),
        ("<second@example.com>", "poll", "message/rfc822"),
    ]


def test_a_new_uidvalidity_reads_the_mailbox_again_without_storing_twice(imap_channel, mailbox):
    _reconfigure(imap_channel, mailbox="Support")
    mailbox.deliver(mail(message_id="<old-1@example.com>"), "Support")
    mailbox.deliver(mail(message_id="<old-2@example.com>"), "Support")
    assert channel_poll(channel_id=imap_channel.pk) == 2
    imap_channel.refresh_from_db()
    first_validity = imap_channel.cursor["uidvalidity"]

    # The mailbox is rebuilt (restored from a backup, migrated): its UIDs start again at 1.
    mailbox.server.recreate(mailbox.username, mailbox.password, "Support")
    mailbox.deliver(mail(message_id="<old-1@example.com>"), "Support")
    mailbox.deliver(mail(message_id="<new@example.com>"), "Support")

    assert channel_poll(channel_id=imap_channel.pk) == 1  # old-1 was already stored
    imap_channel.refresh_from_db()
    assert imap_channel.cursor["uidvalidity"] != first_validity
    assert imap_channel.cursor["last_uid"] == 2
    assert set(RawPayload.objects.filter(channel=imap_channel).values_list("external_id", flat=True)) == {
        "<old-1@example.com>",
        "<old-2@example.com>",
        "<new@example.com>",
    }


def test_a_poll_takes_at_most_batch_size_messages_and_the_next_goes_on(imap_channel, mailbox):
    _reconfigure(imap_channel, batch_size=2)
    for n in (1, 2, 3):
        mailbox.deliver(mail(message_id=f"<b{n}@example.com>"))

    assert channel_poll(channel_id=imap_channel.pk) == 2
    assert channel_poll(channel_id=imap_channel.pk) == 1
    assert channel_poll(channel_id=imap_channel.pk) == 0


def test_a_message_without_message_id_is_keyed_by_uidvalidity_and_uid(imap_channel, mailbox):
    mailbox.deliver(mail(message_id=None))
    validity = mailbox.server.uidvalidity(mailbox.username, mailbox.password)

    assert [item.external_id for item in connector.fetch(imap_channel).items] == [f"uid:{validity}:1"]


def test_an_oversized_message_keeps_its_headers_and_says_so(imap_channel, mailbox):
    _reconfigure(imap_channel, max_message_bytes=1000)
    mailbox.deliver(mail(message_id="<big@example.com>", subject="Huge scan", body="x" * 5000))

    [item] = connector.fetch(imap_channel).items
    message = connector.parse(imap_channel, item.body, {})[0]

    assert item.external_id == "<big@example.com>"
    assert len(item.body) < 1000
    assert message.subject == "Huge scan"
    assert "only its headers were downloaded" in message.text


def test_polling_leaves_the_mailbox_untouched(imap_channel, mailbox):
    mailbox.deliver(mail())
    connector.fetch(imap_channel)

    client = mailbox.server.client(mailbox.username, mailbox.password)
    try:
        client.select("INBOX", readonly=True)
        _, data = client.fetch("1", "(FLAGS)")
    finally:
        client.logout()
    assert b"\\Seen" not in data[0]


def test_a_mailbox_with_a_non_ascii_name(imap_channel, mailbox):
    _reconfigure(imap_channel, mailbox="Réclamations")
    mailbox.deliver(mail(message_id="<fr@example.com>"), imap_utf7("Réclamations"))

    assert [item.external_id for item in connector.fetch(imap_channel).items] == ["<fr@example.com>"]


def test_imap_utf7_encodes_as_rfc_3501_says():
    assert imap_utf7("INBOX") == "INBOX"
    assert imap_utf7("Boîte & co") == "Bo&AO4-te &- co"
    assert imap_utf7("日本語") == "&ZeVnLIqe-"


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_with_the_channels_own_ca(imap_channel, mailbox, test_ca, security):
    port = mailbox.server.ssl_port if security == "ssl" else mailbox.server.port
    _reconfigure(imap_channel, security=security, port=port, tls_ca_certificate=test_ca.ca_pem)
    mailbox.deliver(mail(message_id="<tls@example.com>"))

    assert [item.external_id for item in connector.fetch(imap_channel).items] == ["<tls@example.com>"]


def test_a_certificate_that_does_not_verify_is_refused(imap_channel, mailbox):
    _reconfigure(imap_channel, security="ssl", port=mailbox.server.ssl_port)  # the system's CAs only

    with pytest.raises(PayloadRejected, match="TLS certificate that does not verify"):
        connector.fetch(imap_channel)


def test_ssl_on_a_plain_port_is_a_configuration_error(imap_channel, mailbox, test_ca):
    _reconfigure(imap_channel, security="ssl", tls_ca_certificate=test_ca.ca_pem)

    with pytest.raises(PayloadRejected, match="TLS failed .* check the 'security' and 'port' settings"):
        connector.fetch(imap_channel)


def test_a_wrong_password_is_rejected_and_puts_the_channel_in_error(imap_channel, mailbox):
    imap_channel.credentials = {"username": mailbox.username, "password": "wrong"}
    imap_channel.save()

    with pytest.raises(PayloadRejected) as caught:
        connector.fetch(imap_channel)
    assert caught.value.reason == (
        f"IMAP login refused for {mailbox.username!r} on 127.0.0.1:{mailbox.server.port}: "
        "[AUTHENTICATIONFAILED] Authentication failed."
    )

    assert channel_poll(channel_id=imap_channel.pk) == 0
    imap_channel.refresh_from_db()
    assert imap_channel.status == Channel.Status.ERROR
    assert "AUTHENTICATIONFAILED" in imap_channel.last_error


def test_a_server_that_is_down_is_a_transient_error(brand_a):
    imap_channel = ChannelFactory(
        brand=brand_a,
        settings={"host": "127.0.0.1", "port": free_port(), "security": "none"},  # nothing listens there
        credentials={"username": "support", "password": "secret"},
    )

    with pytest.raises(TransientError, match="cannot reach the IMAP server 127.0.0.1"):
        connector.fetch(imap_channel)

    with pytest.raises(TransientError):
        channel_poll(channel_id=imap_channel.pk)
    imap_channel.refresh_from_db()
    assert imap_channel.status == Channel.Status.ACTIVE  # retried with back-off, not given up
    assert imap_channel.error_count == 1


def test_a_missing_mailbox_is_rejected(imap_channel, mailbox):
    _reconfigure(imap_channel, mailbox="Nope")

    with pytest.raises(PayloadRejected, match="the mailbox 'Nope' cannot be opened"):
        connector.fetch(imap_channel)


@pytest.mark.parametrize(
    "settings, credentials, reason",
    [
        ({}, {"username": "u", "password": "p"}, "no IMAP server: set 'host'"),
        ({"host": "127.0.0.1"}, {}, "no IMAP login"),
        ({"host": "127.0.0.1", "security": "tls"}, {"username": "u", "password": "p"}, "'security' must be"),
        ({"host": "127.0.0.1", "port": "abc"}, {"username": "u", "password": "p"}, "'port' must be a port"),
    ],
)
def test_an_incomplete_configuration_is_rejected(brand_a, settings, credentials, reason):
    channel = ChannelFactory(brand=brand_a, settings=settings, credentials=credentials)
    with pytest.raises(PayloadRejected, match=reason):
        connector.fetch(channel)
