"""One raw RFC 822 message → one InboundMessage.

Mail in the wild is often broken: bodies in charsets they do not declare, 8-bit bytes in headers, base64
with stray characters, multiparts whose closing boundary never comes. The stdlib parser (policy.default)
registers those as defects and keeps going; this module decodes what it can with the declared charset,
then UTF-8, then windows-1252 with replacement characters (the superset of latin-1 that mailers really
send), so a broken message gives best-effort text. Only a message with no sender address at all, or one
that cannot be read as a message, is rejected, with the reason.

Before parsing, the header block is repaired where mailers break it in ways the stdlib cannot recover
from: an unquoted MIME boundary holding "=" (Outlook Express's "----=_NextPart_…"), a continuation line
that is not indented (the stdlib would end the headers there and lose the ones after it), and an address
header indented by mistake (it would be folded into the header above). Encoded words (RFC 2047) are
decoded with the same charset aliases as bodies (gb2312 → gb18030…). A message whose body parts give no
text but that holds readable text somewhere (an odd part, an unparsed body) never comes out empty.
"""

from __future__ import annotations

import codecs
import email
import hashlib
import re
from datetime import UTC, datetime, timedelta
from email import policy
from email.header import decode_header
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parsedate_to_datetime

from ..base import InboundAuthor, InboundMessage, PayloadRejected
from .html_text import html_to_text
from .quoting import FORWARD_MARKER, strip_reply, tidy

MAX_TEXT_CHARS = 100_000
MAX_HTML_CHARS = 500_000
MAX_PARTS = 500
MAX_DEPTH = 20
# A payload the poller could not download whole carries this header (see imap.py) above the original's.
TRUNCATED_HEADER = "X-CXM-Truncated"

# Labels mailers use for encodings that Python knows under a wider name (the superset decodes both).
CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "cp936": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "big5": "big5hkscs",
    "unicode-1-1-utf-7": "utf-7",
}
# Codecs that are not character sets, even though Python finds them by name.
NOT_CHARSETS = {"unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined"}
MSGID = re.compile(r"<([^<>\s]+)>")
SURROGATES = re.compile(r"[\udc80-\udcff]+")
AUTO_SUBMITTED_IGNORED = {"", "no"}
BOUNCE_SENDERS = {"mailer-daemon", "postmaster"}


# ---------------------------------------------------------------------------------------------- text


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = CHARSET_ALIASES.get(charset.strip().strip("\"'").lower(), charset.strip().strip("\"'").lower())
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if info.name in NOT_CHARSETS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset, else UTF-8, else lossily (the declared charset or windows-1252)."""
    codec = _codec(charset)
    for candidate in (codec, "utf-8"):
        if candidate:
            try:
                return data.decode(candidate)
            except (UnicodeDecodeError, LookupError):
                continue
    try:
        return data.decode(codec or "cp1252", errors="replace")
    except LookupError:
        return data.decode("cp1252", errors="replace")


def _repair_8bit(value: str) -> str:
    """Undeclared 8-bit bytes in a header come back from the parser as surrogates: decode them properly."""

    def decode_run(match: re.Match) -> str:
        return decode_bytes(match.group().encode("utf-8", "surrogateescape"), None)

    return SURROGATES.sub(decode_run, value)


def scrub(value: str, limit: int | None = None) -> str:
    """Text that PostgreSQL can store: no lone surrogates, no NUL."""
    value = _repair_8bit(value).replace("\x00", "")
    value = value.encode("utf-8", "replace").decode("utf-8")
    return value[:limit] if limit else value


def _one_line(value: str, limit: int) -> str:
    return " ".join(value.split())[:limit]


# ------------------------------------------------------------------------------------------- headers


def _raw_header(message, name: str) -> str | None:
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return str(value).replace("\r", "").replace("\n", "")
    return None


def _decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded, each with its charset's alias (gb2312 → gb18030, …)."""
    try:
        pieces = decode_header(value)
    except Exception:  # a malformed encoded word: keep the text as it came
        return value
    decoded = []
    for data, charset in pieces:
        if isinstance(data, str):
            decoded.append(data)
        else:
            decoded.append(decode_bytes(data, charset))
    return "".join(decoded)


def header_text(message, name: str, limit: int = 2000) -> str:
    """A header's decoded text (RFC 2047 words, undeclared 8-bit), on one line; '' when absent."""
    raw = _raw_header(message, name)
    if raw is None:
        return ""
    if SURROGATES.search(raw) or "=?" in raw:
        value = _decode_words(_repair_8bit(raw))
    else:
        try:
            value = str(message[name])
        except Exception:  # the structured parser choked on it: decode the raw value ourselves
            value = _decode_words(raw)
    return scrub(_one_line(value, limit))


def header_addresses(message, name: str) -> list[tuple[str, str]]:
    """[(display name, address)] of an address header, forgiving of malformed and 8-bit values."""
    raw = _raw_header(message, name)
    if raw is None:
        return []
    pairs: list[tuple[str, str]] = []
    if not SURROGATES.search(raw) and "=?" not in raw:
        try:
            pairs = [(a.display_name, a.addr_spec) for a in message[name].addresses]
        except Exception:  # the structured parser choked on it: the lenient one below tries
            pairs = []
    if not any("@" in address for _, address in pairs):
        pairs = getaddresses([_repair_8bit(raw)])
        pairs = [(_decode_words(display), _decode_words(address)) for display, address in pairs]
    found = []
    for display, address in pairs:
        address = scrub(address.strip().strip("<>"), 254)
        if "@" in address and not any(c.isspace() for c in address):
            found.append((scrub(_one_line(display or "", 255)), address))
    return found


def normalise_message_id(value: str) -> str:
    """'<id@host>' from a Message-ID-like header value; '' when there is none."""
    match = MSGID.search(value or "")
    if match:
        return f"<{match.group(1)}>"
    token = (value or "").strip().split()
    return f"<{token[0].strip('<>')}>" if token and "@" in token[0] else ""


def message_ids(value: str) -> list[str]:
    """Every message id of a References / In-Reply-To value, in order."""
    found = [f"<{match}>" for match in MSGID.findall(value or "")]
    if not found:
        found = [f"<{token.strip('<>')}>" for token in (value or "").split() if "@" in token]
    return list(dict.fromkeys(found))


def message_id_of(raw: bytes) -> str:
    """The Message-ID of a raw message, reading its headers only (for the poller's idempotency key)."""
    try:
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
        return normalise_message_id(scrub(str(headers.get("Message-ID") or "")))
    except Exception:
        return ""


def _sent_at(message, now: datetime) -> datetime:
    raw = _raw_header(message, "Date")
    if not raw:
        return now
    try:
        sent_at = parsedate_to_datetime(_repair_8bit(raw).strip())
    except Exception:  # an unparseable date: the time it reached us is the best guess
        return now
    if sent_at is None:
        return now
    if sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=UTC)
    # A date far in the future (a broken clock, spam) would sort above everything for ever.
    return now if sent_at > now + timedelta(days=1) else sent_at


# ---------------------------------------------------------------------------------------------- body


class _Body:
    def __init__(self):
        self.text_parts: list[str] = []  # what the customer wrote this time, per body part
        self.full_parts: list[str] = []  # the same, with the quoted history and signatures
        self.html_parts: list[str] = []
        self.attachments: list[dict] = []
        self.parts = 0


def _payload_bytes(part) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: the undecoded payload is the best effort left
        data = None
    if data is None:
        payload = part.get_payload()
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    return data


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed: a line ending in a space continues on the next one."""
    lines, out, current = text.split("\n"), [], ""
    for line in lines:
        line = line.rstrip("\r")
        if line.endswith(" ") and line.rstrip() != "--":
            current += line[:-1] if delsp else line
        else:
            out.append(current + line)
            current = ""
    if current:
        out.append(current)
    return "\n".join(out)


def _charset(part) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:
        return None


def _part_text(part) -> str:
    text = decode_bytes(_payload_bytes(part), _charset(part))
    if str(part.get_param("format") or "").lower() == "flowed":
        text = _unflow(text.replace("\r\n", "\n"), str(part.get_param("delsp") or "").lower() == "yes")
    return scrub(text)


def _filename(part) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    return scrub(_one_line(_decode_words(str(name)), 255))


def _is_attachment(part) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
    except Exception:
        disposition = ""
    return disposition == "attachment" or (part.get_content_maintype() != "text" or bool(_filename(part)))


def _add_attachment(body: _Body, part, size: int | None = None) -> None:
    content_type = part.get_content_type()
    if size is None:
        size = len(_payload_bytes(part))
    filename = _filename(part) or ("message.eml" if content_type == "message/rfc822" else "")
    body.attachments.append({"filename": filename, "content_type": content_type, "size": size})


def _add_plain(body: _Body, part) -> None:
    text = _part_text(part)
    body.full_parts.append(_as_sent(text))
    body.text_parts.append(strip_reply(text))


def _add_html(body: _Body, part, *, as_text: bool) -> None:
    html = _part_text(part)
    body.html_parts.append(html)
    if as_text:
        main, full = html_to_text(html)
        if FORWARD_MARKER.search(full) and not FORWARD_MARKER.search(main):
            main = full  # Gmail puts a forwarded message in its quote block: it is what was sent to us
        body.full_parts.append(full)
        body.text_parts.append(strip_reply(main) if main else strip_reply(full))


def _walk(body: _Body, part, depth: int = 0) -> None:
    body.parts += 1
    if body.parts > MAX_PARTS or depth > MAX_DEPTH:
        return
    content_type = part.get_content_type()
    if content_type == "message/rfc822" or (part.get_content_maintype() == "message" and part.is_multipart()):
        # A message forwarded as an attachment: listed, not read as this message's body.
        try:
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else part
            size = len(inner.as_bytes(policy=policy.SMTP))
        except Exception:
            size = 0
        _add_attachment(body, part, size=size)
        return
    if part.is_multipart():
        children = [child for child in part.get_payload() if hasattr(child, "get_content_type")]
        if content_type == "multipart/alternative":
            _walk_alternative(body, children, depth)
        else:
            for child in children:
                _walk(body, child, depth + 1)
        return
    if _is_attachment(part) or content_type not in ("text/plain", "text/html"):
        _add_attachment(body, part)
    elif content_type == "text/html":
        _add_html(body, part, as_text=True)
    else:
        _add_plain(body, part)


def _walk_alternative(body: _Body, children: list, depth: int) -> None:
    """The same content in several forms: the text from text/plain, the HTML from text/html."""
    plain = next(
        (c for c in children if c.get_content_type() == "text/plain" and not _is_attachment(c)), None
    )
    plain_text = _part_text(plain) if plain is not None else ""
    if plain_text.strip():
        body.full_parts.append(_as_sent(plain_text))
        body.text_parts.append(strip_reply(plain_text))
    for child in children:
        if child is plain:
            continue
        if child.get_content_type() == "text/html" and not _is_attachment(child):
            _add_html(body, child, as_text=not plain_text.strip())
        elif child.is_multipart():
            # multipart/related (HTML with its inline images): its HTML is this alternative's rich form.
            inner = _Body()
            inner.parts = body.parts
            _walk(inner, child, depth + 1)
            body.parts = inner.parts
            body.html_parts += inner.html_parts
            body.attachments += inner.attachments
            if not plain_text.strip():
                body.text_parts += inner.text_parts
                body.full_parts += inner.full_parts
        elif child.get_content_type() not in ("text/plain", "text/html") or _is_attachment(child):
            _add_attachment(body, child)  # e.g. the text/calendar of an invitation


def _as_sent(text: str) -> str:
    """The text as written (trailing spaces kept: "-- " is a signature delimiter), with LF line ends."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")


def _join(parts: list[str], *, tidied: bool = True) -> str:
    joined = "\n\n".join(part for part in parts if part.strip())
    return tidy(joined) if tidied else joined.strip("\n")


# ------------------------------------------------------------------------------------------- message


def _auto_reply_reason(message, sender: str) -> str:
    auto_submitted = header_text(message, "Auto-Submitted").lower()
    if auto_submitted.split(";")[0].strip() not in AUTO_SUBMITTED_IGNORED:
        return f"Auto-Submitted: {auto_submitted}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Failed-Recipients"):
        if _raw_header(message, name) is not None:
            return name
    if header_text(message, "Precedence").lower() == "auto_reply":
        return "Precedence: auto_reply"
    if sender.partition("@")[0].lower() in BOUNCE_SENDERS:
        return f"sent by {sender.partition('@')[0].lower()}"
    if message.get_content_type() == "multipart/report":
        return "delivery report"
    if (_raw_header(message, "Return-Path") or "").strip() == "<>":
        return "empty Return-Path (a bounce)"
    return ""


_HEADER_LINE = re.compile(rb"^[!-9;-~]+[ \t]*:")
_ADDRESS_HEADERS = (b"from", b"sender", b"to", b"cc", b"reply-to", b"subject", b"date", b"message-id")
_INDENTED_HEADER = re.compile(rb"^[ \t]+([A-Za-z-]+)[ \t]*:")
_UNQUOTED_BOUNDARY = re.compile(rb"(;\s*boundary\s*=\s*)([^\"\s;][^\s;]*)", re.IGNORECASE)


def repair_headers(raw: bytes) -> bytes:
    """The message with its header block mended where the stdlib parser would lose headers or parts."""
    raw = _UNQUOTED_BOUNDARY.sub(lambda m: m.group(1) + b'"' + m.group(2).strip(b'"') + b'"', raw)
    end = re.search(rb"\r?\n\r?\n", raw)
    head, rest = (raw[: end.start()], raw[end.start() :]) if end else (raw, b"")
    lines = head.split(b"\n")
    present = {
        line.split(b":", 1)[0].strip().lower()
        for line in lines
        if _HEADER_LINE.match(line) and line[:1].strip()
    }
    changed = False
    for index, line in enumerate(lines):
        if index == 0 and line.startswith(b"From "):
            continue  # an mbox separator line
        indented = _INDENTED_HEADER.match(line)
        if (
            indented
            and indented.group(1).lower() in _ADDRESS_HEADERS
            and indented.group(1).lower() not in present
        ):
            lines[index] = line.lstrip(b" \t")  # " From: …": a header, not the fold of the one above
            present.add(indented.group(1).lower())
            changed = True
        elif (
            index
            and line.strip()
            and line[:1] not in (b" ", b"\t")
            and not _HEADER_LINE.match(line)
            and any(_HEADER_LINE.match(later) for later in lines[index + 1 :])
        ):
            lines[index] = b" " + line  # an unindented continuation, with headers after it
            changed = True
    return b"\n".join(lines) + rest if changed else raw


def _readable_text(message) -> str:
    """Any text the message holds, for a message whose body parts gave none: text in parts that were
    taken for attachments, or a body the MIME structure failed to reach."""
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_content_maintype() == "text":
            text = _part_text(part)
            if part.get_content_type() == "text/html":
                text = html_to_text(text)[1]
            if text.strip():
                return tidy(text)
    payload = message.get_payload()
    if isinstance(payload, str) and payload.strip():
        text = html_to_text(_part_text(message))[1] if "<" in payload else _part_text(message)
        return tidy(text)
    return ""


def _synthetic_id(raw: bytes) -> str:
    return f"<sha256-{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.invalid>"


def parse_email(
    raw: bytes, *, trust_sender: bool = False, own_addresses: set[str] | frozenset[str] = frozenset()
) -> InboundMessage:
    """Normalise one raw message. `own_addresses` (lower-cased) mark the brand's own mail as outbound."""
    if not raw or not raw.strip():
        raise PayloadRejected("empty email: no headers and no body")
    try:
        message: EmailMessage = email.message_from_bytes(repair_headers(raw), policy=policy.default)
    except Exception as error:
        raise PayloadRejected(f"cannot read the email at all: {type(error).__name__}: {error}") from None
    try:
        return _inbound(message, raw, trust_sender=trust_sender, own_addresses=own_addresses)
    except PayloadRejected:
        raise
    except Exception as error:  # never crash the pipeline on one odd message: reject it, replayable
        raise PayloadRejected(f"cannot parse the email: {type(error).__name__}: {str(error)[:300]}") from None


def _inbound(message, raw: bytes, *, trust_sender: bool, own_addresses) -> InboundMessage:
    now = datetime.now(UTC)
    senders = header_addresses(message, "From") or header_addresses(message, "Sender")
    if not senders:
        if not message.keys():
            raise PayloadRejected("not an email: no headers found")
        raw_from = _raw_header(message, "From")
        raise PayloadRejected(
            "the email has no sender address: "
            + (f"From header {scrub(raw_from)[:200]!r} holds none" if raw_from else "no From header")
        )
    display_name, address = senders[0]
    to = header_addresses(message, "To")
    cc = header_addresses(message, "Cc")
    reply_to = header_addresses(message, "Reply-To")

    own_id = normalise_message_id(header_text(message, "Message-ID"))
    references = message_ids(header_text(message, "References", limit=20_000))
    in_reply_to = next(iter(message_ids(header_text(message, "In-Reply-To"))), "")
    external_id = own_id if own_id and len(own_id) <= 500 else _synthetic_id(raw)
    thread_key = (references[0] if references else "") or in_reply_to or external_id
    if len(thread_key) > 500:
        thread_key = external_id

    body = _Body()
    _walk(body, message)
    text = _join(body.text_parts)
    full_text = _join(body.full_parts, tidied=False)
    if not text.strip():  # never empty while the message holds readable text
        text = tidy(full_text) or _readable_text(message)
    if not text.strip() and body.attachments:
        text = " ".join(f"[attachment: {a['filename'] or a['content_type']}]" for a in body.attachments[:10])
    html = "\n".join(body.html_parts)[:MAX_HTML_CHARS]
    if _raw_header(message, TRUNCATED_HEADER) is not None:
        note = f"[{header_text(message, TRUNCATED_HEADER)}]"
        text, full_text = f"{text}\n\n{note}".strip(), f"{full_text}\n\n{note}".strip()

    outbound = address.lower() in own_addresses
    author_name, author_address = display_name, address
    if outbound:
        # The brand's own mail (sent from another client): its conversation is with the first recipient.
        customers = [(n, a) for n, a in to + cc if a.lower() not in own_addresses]
        if customers:
            author_name, author_address = customers[0]
    metadata: dict = {
        "message_id": own_id,
        "from": address,
        "to": [a for _, a in to][:100],
        "cc": [a for _, a in cc][:100],
    }
    if reply_to and reply_to[0][1].lower() != address.lower():
        metadata["reply_to"] = reply_to[0][1]
    if references:
        metadata["references"] = references if len(references) <= 50 else [references[0], *references[-49:]]
    if tidy(full_text) != text:
        metadata["full_text"] = full_text[:MAX_TEXT_CHARS]
    if body.attachments:
        metadata["attachments"] = body.attachments[:100]
    reason = _auto_reply_reason(message, address)
    if reason:
        metadata["auto_reply"] = True
        metadata["auto_reply_reason"] = reason
    defects = {type(defect).__name__ for part in message.walk() for defect in getattr(part, "defects", [])}
    if defects:
        metadata["mime_defects"] = sorted(defects)

    return InboundMessage(
        external_id=external_id,
        thread_key=thread_key,
        text=text[:MAX_TEXT_CHARS],
        html=html,
        subject=header_text(message, "Subject", limit=500),
        in_reply_to=in_reply_to if len(in_reply_to) <= 500 else "",
        sent_at=_sent_at(message, now),
        author=InboundAuthor(
            external_id=author_address.lower(),
            handle=author_address,
            display_name=author_name,
            email=author_address,
            email_verified=trust_sender and not outbound,
        ),
        outbound=outbound,
        metadata=metadata,
    )
