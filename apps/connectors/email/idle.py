"""New mail within seconds: IMAP IDLE (RFC 2177) on every email channel whose server offers it.

`manage.py email_idle` runs `watch_email_channels`: one `ChannelWatcher` thread per active email channel
whose `idle` setting is not off, the list read again every minute (new, paused, removed or reconfigured
channels). A watcher logs in, selects the mailbox, sends IDLE and waits; when the server announces mail
(`* n EXISTS`, `* n RECENT`) it runs `poll` (ingestion's `channel_poll`), the very fetch the beat poll runs
(cursor by UID, raw payloads stored first, idempotent), on a second connection while IDLE goes on. IDLE is
ended and sent again every 25 minutes (RFC 2177: at least every 29, since servers may log out a client idle
for 30). An error closes the connection and the watcher reconnects after an exponential back-off; a server
that does not offer IDLE is asked again after an hour, and its mailbox is polled meanwhile.

Polling and IDLE share one channel without a flag: while a watcher idles, `last_fetch_at` moves forward
every 20 s (the mailbox is known to be up to date: the server would have said otherwise), so
`channels_due_for_poll` skips the channel; when the watcher or its process dies, the beat poll takes over
within one poll interval. `cursor["idle_seen_at"]` tells the channel page the same; every fetch writes a
new cursor without it and the watcher adds it back after its own, so the first beat poll clears it.
"""

from __future__ import annotations

import hashlib
import imaplib
import json
import logging
import random
import re
import socket
import threading
import time
from collections.abc import Callable

from django.db import DatabaseError, close_old_connections, connections
from django.db.models import F, Func, JSONField, Value
from django.utils import timezone

from ..base import PayloadRejected, TransientError
from ..kinds import ChannelKind
from ..models import Channel
from .config import ImapConfig, uses_idle
from .imap import mailbox_session

logger = logging.getLogger(__name__)

RENEW_SECONDS = 25 * 60  # RFC 2177: at most 29 minutes, with room for a slow server
HEARTBEAT_SECONDS = 20  # well under the 60 s poll interval: a live watcher's channel is never due
REFRESH_SECONDS = 60
STOP_CHECK_SECONDS = 1.0  # how long a watcher may take to notice that it must stop
STOP_WAIT_SECONDS = 10  # the stack kills what is left after 20 s
FIRST_RETRY_SECONDS = 5
MAX_RETRY_SECONDS = 300
STABLE_SECONDS = 60  # a connection that lasted this long was healthy: the back-off starts over after it
NO_IDLE_RECHECK_SECONDS = 3600
MAX_LINE_BYTES = 64 * 1024

NEW_MAIL = re.compile(rb"^\* \d+ (EXISTS|RECENT)\b", re.IGNORECASE)
BYE = re.compile(rb"^\* BYE\b", re.IGNORECASE)


class IdleUnsupported(Exception):
    """The server does not offer IDLE: the channel is polled."""


def offers_idle(client: imaplib.IMAP4) -> bool:
    # Asked after login: some servers list IDLE to authenticated clients only.
    status, data = client.capability()
    words = b" ".join(item for item in data if isinstance(item, bytes)).upper().split()
    return status == "OK" and b"IDLE" in words


class IdleConnection:
    """IDLE on a connection with a mailbox selected, read straight from its socket.

    imaplib reads through a buffered file that is unusable once a read has timed out, and IDLE needs reads
    that give up after a second (to notice a stop, to renew). So between IDLE and the server's answer to
    DONE this class alone reads the socket, with its own buffer; imaplib gets the connection back for LOGOUT.
    """

    def __init__(self, client: imaplib.IMAP4, timeout: float):
        self.client = client
        self.timeout = timeout
        self.buffer = b""
        self.tag = b""
        self.commands = 0
        self.active = False
        self.started_at = 0.0

    def _line(self, wait: float) -> bytes | None:
        """The server's next line, or None when none came within `wait` seconds."""
        deadline = time.monotonic() + wait
        sock = self.client.sock
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            sock.settimeout(remaining)
            try:
                data = sock.recv(65536)
            except TimeoutError:  # a socket (unlike imaplib's file) reads on fine after a timeout
                return None
            finally:
                sock.settimeout(self.timeout)
            if not data:
                raise imaplib.IMAP4.abort("the server closed the connection")
            self.buffer += data
            if len(self.buffer) > MAX_LINE_BYTES and b"\n" not in self.buffer:
                raise imaplib.IMAP4.abort("the server sent a line too long for an IDLE notification")
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.rstrip(b"\r")

    def _answer(self, what: str) -> bytes:
        line = self._line(self.timeout)
        if line is None:
            raise imaplib.IMAP4.abort(f"no answer to {what} within {self.timeout:g} s")
        if BYE.match(line):
            raise imaplib.IMAP4.abort(line.decode("utf-8", "replace"))
        return line

    def _is_completion(self, line: bytes) -> bool:
        return line.startswith(self.tag + b" ")

    def start(self) -> bool:
        """Send IDLE; returns whether the server announced new mail before it agreed."""
        self.commands += 1
        self.tag = f"IDLE{self.commands}".encode()
        self.client.send(self.tag + b" IDLE\r\n")
        new_mail = False
        while not (line := self._answer("IDLE")).startswith(b"+"):
            if self._is_completion(line):
                raise imaplib.IMAP4.error(f"IDLE refused: {line.decode('utf-8', 'replace')}")
            new_mail |= bool(NEW_MAIL.match(line))
        self.active = True
        self.started_at = time.monotonic()
        return new_mail

    def wait(self, seconds: float) -> bool:
        """Listen for up to `seconds`; returns as soon as the server announces new mail (True)."""
        deadline = time.monotonic() + seconds
        while self.active and (remaining := deadline - time.monotonic()) > 0:
            line = self._line(remaining)
            if line is None:
                return False
            if BYE.match(line):
                raise imaplib.IMAP4.abort(line.decode("utf-8", "replace"))
            if self._is_completion(line):
                self.active = False  # the server ended IDLE itself: the watcher starts it again
            elif NEW_MAIL.match(line):
                return True
        return False

    def done(self) -> bool:
        """End IDLE; returns whether the server announced new mail before it confirmed."""
        if not self.active:
            return False
        self.active = False
        self.client.send(b"DONE\r\n")
        new_mail = False
        while not self._is_completion(line := self._answer("DONE")):
            new_mail |= bool(NEW_MAIL.match(line))
        return new_mail


def keep_alive(sock: socket.socket) -> None:
    """TCP keepalive on an idle connection: a peer or NAT mapping gone silent is noticed in about two minutes
    (the read fails), instead of heartbeats going on for a connection that will never announce anything."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 20), ("TCP_KEEPCNT", 3)):
        if hasattr(socket, option):  # Linux; elsewhere the system's defaults
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


def record_idle_heartbeat(channel_ids: list[int]) -> None:
    """The watchers of these channels are idling: their mailboxes are up to date as of now."""
    if not channel_ids:
        return
    now = timezone.now()
    Channel.objects.filter(pk__in=channel_ids, status=Channel.Status.ACTIVE).update(
        last_fetch_at=now,
        # One key merged into the cursor in SQL: the UID cursor a poll may be writing is left alone.
        cursor=Func(
            F("cursor"),
            Value({"idle_seen_at": now.isoformat()}, output_field=JSONField()),
            arg_joiner=" || ",
            template="(%(expressions)s)",
            output_field=JSONField(),
        ),
    )


def _retry_delay(failures: int) -> float:
    delay = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (failures - 1))
    return delay * random.uniform(0.8, 1.2)  # channels on one server that failed together retry apart


class ChannelWatcher:
    """One email channel's IDLE loop, in a thread of its own, until `stop()`."""

    def __init__(self, channel_id: int, poll: Callable[[int], object], fingerprint: str = ""):
        self.channel_id = channel_id
        self.poll = poll  # the channel's fetch, given by ingestion (a connector stores nothing itself)
        self.fingerprint = fingerprint  # of the settings it was started with (see `watch_email_channels`)
        self.stopping = threading.Event()
        # True while IDLE runs and the last fetch succeeded: only then may the heartbeat be recorded.
        self.idling = False
        self.thread = threading.Thread(target=self.run, name=f"email-idle-{channel_id}", daemon=True)

    def start(self) -> ChannelWatcher:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            connected_at = time.monotonic()
            # `_watch` returns before a stop only when the channel was paused or removed: the refresh ends us.
            delay = FIRST_RETRY_SECONDS
            try:
                self._watch()
            except IdleUnsupported as reason:
                logger.info("%s: polled instead", reason, extra={"channel": self.channel_id})
                delay = NO_IDLE_RECHECK_SECONDS
            except Exception as error:  # whatever went wrong, the thread lives on and reconnects
                stable = time.monotonic() - connected_at >= STABLE_SECONDS
                failures = 1 if stable else failures + 1
                delay = _retry_delay(failures)
                if isinstance(error, TransientError | PayloadRejected):
                    # A refusal is the beat poll's to record: it polls this channel while we do not idle.
                    logger.warning(
                        "IMAP IDLE stopped, reconnecting in %.0f s: %s",
                        delay,
                        error.reason,
                        extra={"channel": self.channel_id},
                    )
                else:
                    logger.exception(
                        "IMAP IDLE failed, reconnecting in %.0f s", delay, extra={"channel": self.channel_id}
                    )
            finally:
                self.idling = False
                connections.close_all()
            self.stopping.wait(delay)

    def _watch(self) -> None:
        """One connection: IDLE until told to stop (returns) or until something fails (raises)."""
        channel = Channel.objects.filter(pk=self.channel_id, status=Channel.Status.ACTIVE).first()
        if channel is None:
            return  # paused or removed: the next refresh stops this watcher
        config = ImapConfig.from_channel(channel)
        connections.close_all()  # no database connection is held while idling, only while fetching
        with mailbox_session(config) as (client, _uidvalidity):
            if not offers_idle(client):
                raise IdleUnsupported(f"the IMAP server {config.host}:{config.port} does not offer IDLE")
            keep_alive(client.sock)
            idle = IdleConnection(client, config.timeout)
            idle.start()
            # What came before IDLE began is fetched now; what comes after, the server announces.
            self._fetch()
            while not self.stopping.is_set():
                if not idle.active:
                    new_mail = idle.start()
                elif time.monotonic() - idle.started_at >= RENEW_SECONDS:
                    new_mail = idle.done()
                    new_mail = idle.start() or new_mail
                else:
                    new_mail = idle.wait(STOP_CHECK_SECONDS)
                if new_mail:
                    self._fetch()
            idle.done()

    def _fetch(self) -> None:
        try:
            self.poll(self.channel_id)
            record_idle_heartbeat([self.channel_id])  # the poll's new cursor has no `idle_seen_at`
            self.idling = True
        finally:
            connections.close_all()


def _channels_to_watch() -> dict[int, str]:
    """{channel id: fingerprint of its settings and credentials} of the active email channels using IDLE."""
    channels = Channel.objects.filter(kind=ChannelKind.EMAIL, status=Channel.Status.ACTIVE).only(
        "pk", "settings", "credentials"
    )
    return {
        channel.pk: hashlib.sha256(
            json.dumps([channel.settings, channel.credentials], sort_keys=True, default=str).encode()
        ).hexdigest()
        for channel in channels
        if uses_idle(channel.settings or {})
    }


def _update_watchers(
    watchers: dict[int, ChannelWatcher], wanted: dict[int, str], poll: Callable[[int], object]
) -> None:
    for channel_id, watcher in list(watchers.items()):
        if wanted.get(channel_id) != watcher.fingerprint:  # gone, paused, or its settings changed
            watcher.stop()
            del watchers[channel_id]
    for channel_id, fingerprint in wanted.items():
        if channel_id not in watchers:
            watchers[channel_id] = ChannelWatcher(channel_id, poll, fingerprint).start()


def watch_email_channels(
    stop: threading.Event,
    poll: Callable[[int], object],
    *,
    refresh_seconds: float = REFRESH_SECONDS,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
) -> None:
    """Keep an IDLE watcher on every active email channel that uses IDLE, until `stop` is set;
    `poll(channel_id)` fetches and stores what is new (apps.ingestion.polling.channel_poll)."""
    watchers: dict[int, ChannelWatcher] = {}
    refreshed_at = None
    try:
        while not stop.is_set():
            try:
                close_old_connections()
                if refreshed_at is None or time.monotonic() - refreshed_at >= refresh_seconds:
                    _update_watchers(watchers, _channels_to_watch(), poll)
                    refreshed_at = time.monotonic()
                record_idle_heartbeat([w.channel_id for w in watchers.values() if w.idling])
            except DatabaseError:
                # The database is restarting or out of reach: the watchers go on, this is tried again.
                logger.warning("cannot read the email channels; trying again", exc_info=True)
                connections.close_all()
            stop.wait(min(refresh_seconds, heartbeat_seconds))
    finally:
        for watcher in watchers.values():
            watcher.stop()
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        for watcher in watchers.values():
            watcher.thread.join(max(0.0, deadline - time.monotonic()))
        connections.close_all()
