"""IMAP IDLE against a real dovecot: new mail stored within seconds, renewal, reconnection, clean stop, and
polling for channels (and servers) without IDLE. The watchers run in threads of the test process, through
`watch_email_channels`, the function `manage.py email_idle` runs."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Role
from apps.connectors.email import idle
from apps.connectors.email.config import ImapConfig
from apps.connectors.email.idle import IdleConnection, watch_email_channels
from apps.connectors.email.imap import mailbox_session
from apps.connectors.kinds import ChannelKind
from apps.connectors.models import Channel
from apps.ingestion.models import RawPayload
from apps.ingestion.polling import channel_poll, channels_due_for_poll
from tests.conftest import ROOT, _test_database_url
from tests.connectors.email.samples import mail
from tests.factories import ChannelFactory
from tests.fakes.mailserver import DOVECOT_MISSING, DovecotServer, dovecot_binary

# The watchers' threads must see the test's rows: committed, not inside the test's transaction.
pytestmark = pytest.mark.django_db(transaction=True)


def eventually(check, seconds: float = 5.0):
    deadline = time.monotonic() + seconds
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return result


def stored(channel, message_id: str) -> bool:
    return RawPayload.objects.filter(channel=channel, external_id=message_id).exists()


def idling(channel) -> bool:
    return "idle_seen_at" in Channel.objects.get(pk=channel.pk).cursor


def lost_connections(mailbox) -> list[str]:
    """dovecot's log lines of the mailbox's connections that ended without LOGOUT."""
    lines = mailbox.server.log().splitlines()
    ended = [line for line in lines if f"imap({mailbox.username})" in line and "Disconnected:" in line]
    return [line for line in ended if "Disconnected: Logged out" not in line]


def watcher_threads(channel) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == f"email-idle-{channel.pk}"]


def _poll(channel_id: int) -> None:
    channel_poll(channel_id=channel_id)  # as manage.py email_idle gives it


class EmailIdle:
    """`watch_email_channels` in a thread, refreshing its channel list five times a second."""

    def __init__(self):
        self.stop_event = threading.Event()
        self.thread = threading.Thread(
            target=watch_email_channels,
            args=(self.stop_event, _poll),
            kwargs={"refresh_seconds": 0.2, "heartbeat_seconds": 0.2},
            daemon=True,
        )
        self.thread.start()

    def stop(self) -> float:
        """Stop as SIGTERM does; returns how long it took."""
        started = time.monotonic()
        self.stop_event.set()
        self.thread.join(15)
        assert not self.thread.is_alive()
        return time.monotonic() - started


@pytest.fixture
def email_idle(transactional_db):
    running = EmailIdle()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def dovecot_without_idle(test_ca):
    if dovecot_binary() is None:
        pytest.skip(DOVECOT_MISSING)
    with DovecotServer(test_ca, extra_config="imap_capability = IMAP4rev1 LITERAL+ SASL-IR\n") as server:
        yield server


def test_new_mail_is_stored_within_seconds_without_a_poll(imap_channel, mailbox, email_idle):
    mailbox.deliver(mail(message_id="<before@example.com>"))

    assert eventually(lambda: idling(imap_channel))
    # What was there before IDLE began: fetched once IDLE is under way (the marker may come first).
    assert eventually(lambda: stored(imap_channel, "<before@example.com>"), seconds=5)
    # The beat poll leaves the channel alone while the watcher idles.
    assert imap_channel.pk not in channels_due_for_poll().values_list("pk", flat=True)

    sent = time.monotonic()
    mailbox.deliver(mail(message_id="<pushed@example.com>"))
    assert eventually(lambda: stored(imap_channel, "<pushed@example.com>"), seconds=5)
    assert time.monotonic() - sent < 5
    payload = RawPayload.objects.get(channel=imap_channel, external_id="<pushed@example.com>")
    assert (payload.source, payload.content_type) == (RawPayload.Source.POLL, "message/rfc822")
    # The fetch wrote a new cursor; the watcher marks it as idling again right after.
    assert eventually(lambda: idling(imap_channel))
    imap_channel.refresh_from_db()
    assert imap_channel.cursor["last_uid"] == 2


def test_stopping_ends_idle_and_logs_out_then_polling_takes_over(imap_channel, mailbox, email_idle):
    assert eventually(lambda: idling(imap_channel))

    assert email_idle.stop() < 5
    assert not watcher_threads(imap_channel)
    # DONE and LOGOUT were sent: dovecot logged the IDLE connection out rather than losing it.
    assert f"imap({mailbox.username})" in mailbox.server.log()
    assert lost_connections(mailbox) == []

    # A poll interval later the beat poll finds the channel due again, and its cursor says "polled".
    Channel.objects.filter(pk=imap_channel.pk).update(last_fetch_at=timezone.now() - timedelta(minutes=2))
    assert imap_channel.pk in channels_due_for_poll().values_list("pk", flat=True)
    mailbox.deliver(mail(message_id="<after@example.com>"))
    assert channel_poll(channel_id=imap_channel.pk) == 1
    assert not idling(imap_channel)


def test_the_email_idle_command_receives_mail_and_stops_on_sigterm(imap_channel, mailbox):
    environment = {
        **os.environ,
        "DATABASE_URL": _test_database_url(connection.settings_dict["NAME"]),
        "CXM_TESTING": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "email_idle"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert eventually(lambda: idling(imap_channel), seconds=20)
        mailbox.deliver(mail(message_id="<command@example.com>"))
        assert eventually(lambda: stored(imap_channel, "<command@example.com>"))

        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        output = process.communicate()[0].decode()
    assert "email_idle: stopped" in output
    assert lost_connections(mailbox) == []


@pytest.mark.parametrize("security", ["none", "ssl", "starttls"])
def test_idle_renewed_on_one_connection_still_reports_new_mail(imap_channel, mailbox, test_ca, security):
    port = mailbox.server.ssl_port if security == "ssl" else mailbox.server.port
    imap_channel.settings.update(security=security, port=port, tls_ca_certificate=test_ca.ca_pem)
    config = ImapConfig.from_channel(imap_channel)
    with mailbox_session(config) as (client, _uidvalidity):
        connection = IdleConnection(client, timeout=10)
        assert connection.start() is False
        assert connection.wait(0.3) is False  # nothing new: gives up after the time asked

        connection.done()
        connection.start()  # what the watcher does every RENEW_SECONDS
        mailbox.deliver(mail(message_id="<renewed@example.com>"))
        assert connection.wait(5) is True
        connection.done()

        assert connection.commands == 2
        assert client.noop()[0] == "OK"  # imaplib reads on where IDLE left the connection


def test_a_watcher_renews_idle_and_keeps_receiving(imap_channel, mailbox, monkeypatch):
    monkeypatch.setattr(idle, "RENEW_SECONDS", 0.5)
    running = EmailIdle()
    try:
        assert eventually(lambda: idling(imap_channel))
        time.sleep(1.5)  # IDLE was ended and sent again at least twice

        mailbox.deliver(mail(message_id="<late@example.com>"))
        assert eventually(lambda: stored(imap_channel, "<late@example.com>"))
    finally:
        running.stop()
    assert lost_connections(mailbox) == []


def test_a_dropped_connection_is_reconnected(imap_channel, mailbox, email_idle, monkeypatch, caplog):
    monkeypatch.setattr(idle, "FIRST_RETRY_SECONDS", 0.2)
    assert eventually(lambda: idling(imap_channel))

    mailbox.server.kick(mailbox.username)  # dovecot closes the IDLE connection ("Server shutting down")
    time.sleep(1)
    mailbox.deliver(mail(message_id="<reconnected@example.com>"))

    assert eventually(lambda: stored(imap_channel, "<reconnected@example.com>"))
    assert "IMAP IDLE stopped, reconnecting" in caplog.text


def test_a_server_without_idle_is_polled(brand_a, dovecot_without_idle, email_idle, caplog):
    dovecot_without_idle.add_user("plain", "secret")
    channel = ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.EMAIL,
        settings={"host": "127.0.0.1", "port": dovecot_without_idle.port, "security": "none"},
        credentials={"username": "plain", "password": "secret"},
    )

    assert eventually(lambda: "does not offer IDLE" in caplog.text)
    dovecot_without_idle.deliver("plain", "secret", mail(message_id="<polled@example.com>"))
    time.sleep(0.5)
    assert not stored(channel, "<polled@example.com>")
    assert channel.pk in channels_due_for_poll().values_list("pk", flat=True)
    assert channel_poll(channel_id=channel.pk) == 1
    assert not idling(channel)


def test_channels_with_idle_off_or_paused_are_not_watched(brand_a, imap_channel, mailbox, email_idle):
    polled_only = ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.EMAIL,
        settings={**imap_channel.settings, "idle": False},
        credentials=imap_channel.credentials,
    )
    assert eventually(lambda: idling(imap_channel))
    assert not watcher_threads(polled_only) and not idling(polled_only)

    Channel.objects.filter(pk=imap_channel.pk).update(status=Channel.Status.PAUSED)
    assert eventually(lambda: not watcher_threads(imap_channel))
    mailbox.deliver(mail(message_id="<while-paused@example.com>"))
    time.sleep(0.5)
    assert not stored(imap_channel, "<while-paused@example.com>")


def test_the_channel_page_says_push_or_polling(org_a, imap_channel, make_membership, login):
    client = login(make_membership(org_a, Role.ADMIN))
    page = client.get(reverse("connectors:detail", args=[imap_channel.pk])).content.decode()
    assert "Polled every 60 s." in page and "IMAP IDLE" not in page

    idle.record_idle_heartbeat([imap_channel.pk])
    page = client.get(reverse("connectors:detail", args=[imap_channel.pk])).content.decode()
    assert "New mail is pushed by the server (IMAP IDLE)." in page and "Polled every" not in page
