"""Polling one IMAP mailbox for what arrived since the last poll.

The cursor is {"mailbox", "uidvalidity", "last_uid"}. UIDs only grow within one UIDVALIDITY, so each poll
asks for `UID last_uid+1:*`; when the server announces another UIDVALIDITY (the mailbox was recreated or
rebuilt) the UIDs mean nothing any more and the poll starts over from the first message; messages already
stored are recognised by their Message-ID and not stored twice. The mailbox is opened read-only and bodies
are read with BODY.PEEK[], so polling never changes a flag on the server. A poll takes at most
`batch_size` messages (oldest first) and stops early after about 64 MiB; the next poll goes on from there.

Errors: unreachable server, timeouts, dropped connections → TransientError (retried with back-off); a
refused login, a certificate that does not verify, a missing mailbox → PayloadRejected (the channel is put
in error with the reason).
"""

from __future__ import annotations

import base64
import imaplib
import logging
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from apps.core.outbound import DestinationRefused, untrusted_destination

from ..base import FetchedItem, FetchResult, PayloadRejected, TransientError
from .config import ImapConfig, tls_context
from .parsing import TRUNCATED_HEADER, message_id_of

logger = logging.getLogger(__name__)

MAX_BYTES_PER_POLL = 64 * 1024 * 1024
MAX_BYTES_PER_COMMAND = 8 * 1024 * 1024
MAX_MESSAGES_PER_COMMAND = 25
# Response codes (RFC 5530) of a login refused for a passing reason: try again later.
TRANSIENT_LOGIN_CODES = ("UNAVAILABLE", "SERVERBUG", "INUSE", "LIMIT")


def imap_utf7(name: str) -> str:
    """A mailbox name in IMAP's modified UTF-7 (RFC 3501 §5.1.3): "Boîte" → "Bo&AO4-te"."""
    out: list[str] = []
    pending: list[str] = []

    def flush():
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + encoded.replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _server_text(error: Exception) -> str:
    value = error.args[0] if error.args else str(error)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    value = str(value)
    match = re.fullmatch(r"b(['\"])(.*)\1", value, re.DOTALL)
    return (match.group(2) if match else value).strip()[:500]


def _where(config: ImapConfig) -> str:
    return f"{config.host}:{config.port}"


def _translate(error: Exception, config: ImapConfig, stage: str) -> Exception:
    if isinstance(error, PayloadRejected | TransientError):
        return error
    if isinstance(error, ssl.SSLCertVerificationError):
        return PayloadRejected(
            f"the IMAP server {_where(config)} has a TLS certificate that does not verify: "
            f"{error.verify_message or error}"
        )
    if isinstance(error, ssl.SSLError):
        return PayloadRejected(
            f"TLS failed with the IMAP server {_where(config)} ({error}); check the 'security' and 'port' "
            "settings"
        )
    if isinstance(error, imaplib.IMAP4.abort | OSError | EOFError):
        detail = _server_text(error) or repr(error)
        return TransientError(f"cannot reach the IMAP server {_where(config)}: {detail}")
    if isinstance(error, imaplib.IMAP4.error):
        text = _server_text(error)
        if stage == "login":
            if any(f"[{code}]" in text.upper() for code in TRANSIENT_LOGIN_CODES):
                return TransientError(f"the IMAP server {_where(config)} cannot log in now: {text}")
            return PayloadRejected(f"IMAP login refused for {config.username!r} on {_where(config)}: {text}")
        return PayloadRejected(f"the IMAP server {_where(config)} refused the {stage}: {text}")
    return error


@contextmanager
def _errors(config: ImapConfig, stage: str) -> Iterator[None]:
    try:
        yield
    except (imaplib.IMAP4.error, OSError, EOFError) as error:
        raise _translate(error, config, stage) from error


def _connect(config: ImapConfig) -> imaplib.IMAP4:
    context = tls_context(config.settings) if config.security != "none" else None
    # The server is the tenant's: it must be on a public address (no scanning CXM's network through it).
    try:
        with untrusted_destination(f"the IMAP server {_where(config)}"):
            if config.security == "ssl":
                return imaplib.IMAP4_SSL(
                    config.host, config.port, ssl_context=context, timeout=config.timeout
                )
            client = imaplib.IMAP4(config.host, config.port, timeout=config.timeout)
    except DestinationRefused as error:
        raise PayloadRejected(str(error)) from None
    if config.security == "starttls":
        if "STARTTLS" not in client.capabilities:
            client.shutdown()
            raise PayloadRejected(
                f"the IMAP server {_where(config)} does not offer STARTTLS; "
                "use security 'ssl' or another port"
            )
        client.starttls(ssl_context=context)
    return client


def _login(client: imaplib.IMAP4, config: ImapConfig) -> None:
    if "LOGINDISABLED" in client.capabilities:
        raise PayloadRejected(
            f"the IMAP server {_where(config)} refuses to log in without TLS: "
            "use security 'starttls' or 'ssl'"
        )
    if (config.username + config.password).isascii():
        client.login(config.username, config.password)
    else:  # LOGIN is ASCII-only; SASL PLAIN carries UTF-8
        credentials = f"\0{config.username}\0{config.password}".encode()
        client.authenticate("PLAIN", lambda _challenge: credentials)


@contextmanager
def _session(config: ImapConfig) -> Iterator[imaplib.IMAP4]:
    client = None
    try:
        with _errors(config, "connection"):
            client = _connect(config)
        with _errors(config, "login"):
            _login(client, config)
        with _errors(config, "command"):
            yield client
    finally:
        if client is not None:
            try:
                client.logout()
            except Exception:  # the connection is going away anyway
                logger.debug("IMAP logout failed", exc_info=True)


def _select(client: imaplib.IMAP4, config: ImapConfig) -> int:
    status, data = client.select(_quoted(imap_utf7(config.mailbox)), readonly=True)
    if status != "OK":
        text = _server_text(imaplib.IMAP4.error(data[-1] if data else b""))
        raise PayloadRejected(f"the mailbox {config.mailbox!r} cannot be opened on {_where(config)}: {text}")
    _, values = client.response("UIDVALIDITY")
    value = values[-1] if values else None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PayloadRejected(
            f"the IMAP server {_where(config)} gave no UIDVALIDITY for {config.mailbox!r}"
        ) from None


@contextmanager
def mailbox_session(config: ImapConfig) -> Iterator[tuple[imaplib.IMAP4, int]]:
    """A logged-in connection with the channel's mailbox selected read-only, and its UIDVALIDITY.

    IMAP and network errors inside it come out as TransientError / PayloadRejected; it logs out at the end.
    """
    with _session(config) as client:
        yield client, _select(client, config)


def _uids_after(client: imaplib.IMAP4, last_uid: int) -> list[int]:
    status, data = client.uid("SEARCH", None, f"UID {last_uid + 1}:*")
    if status != "OK":
        raise imaplib.IMAP4.error(data[-1] if data else b"UID SEARCH failed")
    uids = {int(token) for line in data if line for token in line.split() if token.isdigit()}
    # "n:*" also matches the highest UID when it is below n: keep only what is really new.
    return sorted(uid for uid in uids if uid > last_uid)


def _uid_in(blob: bytes) -> int | None:
    match = re.search(rb"\bUID (\d+)", blob)
    return int(match.group(1)) if match else None


def _sizes(client: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    status, data = client.uid("FETCH", ",".join(map(str, uids)), "(RFC822.SIZE)")
    if status != "OK":
        raise imaplib.IMAP4.error(data[-1] if data else b"UID FETCH failed")
    sizes = {}
    for item in data:
        blob = item[0] if isinstance(item, tuple) else item
        if isinstance(blob, bytes):
            uid, size = _uid_in(blob), re.search(rb"RFC822\.SIZE (\d+)", blob)
            if uid is not None and size:
                sizes[uid] = int(size.group(1))
    return sizes


def _fetch(client: imaplib.IMAP4, uids: list[int], section: str) -> dict[int, bytes]:
    """{uid: bytes of `section`}; the UID may come before or after the literal in the response."""
    status, data = client.uid("FETCH", ",".join(map(str, uids)), f"(UID {section})")
    if status != "OK":
        raise imaplib.IMAP4.error(data[-1] if data else b"UID FETCH failed")
    records: list[list] = []
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            records.append([_uid_in(item[0]), item[1]])
        elif isinstance(item, bytes) and records and records[-1][0] is None:
            records[-1][0] = _uid_in(item)
    return {uid: body for uid, body in records if uid is not None and isinstance(body, bytes)}


def _chunks(uids: list[int], sizes: dict[int, int]) -> Iterator[list[int]]:
    chunk: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if chunk and (total + size > MAX_BYTES_PER_COMMAND or len(chunk) >= MAX_MESSAGES_PER_COMMAND):
            yield chunk
            chunk, total = [], 0
        chunk.append(uid)
        total += size
    if chunk:
        yield chunk


def _item(raw: bytes, uidvalidity: int, uid: int) -> FetchedItem:
    message_id = message_id_of(raw)
    return FetchedItem(
        external_id=message_id if 0 < len(message_id) <= 500 else f"uid:{uidvalidity}:{uid}",
        body=raw,
        content_type="message/rfc822",
    )


def _download(
    client: imaplib.IMAP4, config: ImapConfig, uidvalidity: int, uids: list[int], last_uid: int
) -> tuple[list[FetchedItem], int]:
    if not uids:
        return [], last_uid
    sizes = _sizes(client, uids)
    items: list[FetchedItem] = []
    downloaded = 0
    small = [uid for uid in uids if sizes.get(uid, 0) <= config.max_message_bytes]
    for chunk in _chunks(uids, sizes):
        if downloaded >= MAX_BYTES_PER_POLL:
            break  # enough for one poll: the cursor stops before this chunk, the next poll goes on
        wanted = [uid for uid in chunk if uid in small]
        bodies = _fetch(client, wanted, "BODY.PEEK[]") if wanted else {}
        oversized = [uid for uid in chunk if uid not in small]
        headers = _fetch(client, oversized, "BODY.PEEK[HEADER]") if oversized else {}
        for uid in chunk:
            if uid in bodies:
                items.append(_item(bodies[uid], uidvalidity, uid))
                downloaded += len(bodies[uid])
            elif uid in headers:
                # Too big to store: keep the headers (threading, sender) and say what was left out.
                note = (
                    f"{TRUNCATED_HEADER}: message of {sizes[uid]} bytes, over the channel's limit of "
                    f"{config.max_message_bytes}; only its headers were downloaded\r\n"
                ).encode()
                items.append(_item(note + headers[uid], uidvalidity, uid))
            # else: expunged between the search and the fetch; nothing to keep
        last_uid = max(last_uid, *chunk)
    return items, last_uid


def fetch_new_messages(channel) -> FetchResult:
    config = ImapConfig.from_channel(channel)
    cursor = channel.cursor or {}
    with mailbox_session(config) as (client, uidvalidity):
        same_mailbox = cursor.get("uidvalidity") == uidvalidity and (
            cursor.get("mailbox", config.mailbox) == config.mailbox
        )
        if cursor and not same_mailbox:
            logger.info(
                "IMAP UIDVALIDITY or mailbox changed: reading the mailbox again from the start",
                extra={"channel": channel.pk, "was": cursor.get("uidvalidity"), "now": uidvalidity},
            )
        last_uid = int(cursor.get("last_uid") or 0) if same_mailbox else 0
        uids = _uids_after(client, last_uid)[: config.batch_size]
        items, last_uid = _download(client, config, uidvalidity, uids, last_uid)
    return FetchResult(
        items=items, cursor={"mailbox": config.mailbox, "uidvalidity": uidvalidity, "last_uid": last_uid}
    )
