"""CXM's own JSON message format, spoken by the signed-webhook API channel and by bulk imports.

    {"id": "m-1", "thread_id": "t-1", "text": "…", "sent_at": "2026-11-25T10:00:00Z",
     "author": {"id": "u-1", "handle": "@ana", "name": "Ana", "email": "ana@example.com"},
     "subject": "", "html": "", "language": "", "in_reply_to": "", "metadata": {}}

A payload is one such object or {"messages": [ … ]}.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime

from .base import InboundAuthor, InboundMessage, PayloadRejected

MAX_TEXT_CHARS = 100_000
MAX_MESSAGES_PER_PAYLOAD = 1000


def decode_json(body: bytes):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PayloadRejected(f"payload is not valid UTF-8 (byte {error.start}: {error.reason})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise PayloadRejected(
            f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
        ) from None


def clean_text(value, field: str, limit: int = MAX_TEXT_CHARS) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadRejected(f"'{field}' must be a string, not {type(value).__name__}")
    # PostgreSQL text cannot hold NUL; a hostile or broken sender must not make the row unstorable.
    return value.replace("\x00", "")[:limit]


def parse_time(value, field: str = "sent_at") -> datetime:
    if value in (None, ""):
        return datetime.now(UTC)
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise PayloadRejected(f"'{field}' is not a valid timestamp: {value!r}") from None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise PayloadRejected(f"'{field}' is not an ISO 8601 date-time: {str(value)[:60]!r}")


def _author(data) -> InboundAuthor:
    if not isinstance(data, dict):
        raise PayloadRejected("'author' must be an object with at least an 'id'")
    external_id = data.get("id")
    if external_id in (None, ""):
        raise PayloadRejected("'author.id' is required")
    followers = data.get("followers")
    if followers is not None and (not isinstance(followers, int) or followers < 0):
        raise PayloadRejected("'author.followers' must be a non-negative integer")
    return InboundAuthor(
        external_id=clean_text(str(external_id), "author.id", 255),
        handle=clean_text(data.get("handle"), "author.handle", 255),
        display_name=clean_text(data.get("name"), "author.name", 255),
        profile_url=clean_text(data.get("profile_url"), "author.profile_url", 500),
        email=clean_text(data.get("email"), "author.email", 254),
        email_verified=bool(data.get("email_verified")),
        phone=clean_text(data.get("phone"), "author.phone", 32),
        phone_verified=bool(data.get("phone_verified")),
        followers=followers,
        verified=data.get("verified") if isinstance(data.get("verified"), bool) else None,
    )


def message_from_dict(data, *, index: int = 0) -> InboundMessage:
    if not isinstance(data, dict):
        raise PayloadRejected(f"message {index} must be a JSON object")
    external_id = data.get("id")
    if external_id in (None, ""):
        raise PayloadRejected(f"message {index}: 'id' is required (it makes delivery idempotent)")
    text = clean_text(data.get("text"), "text")
    html = clean_text(data.get("html"), "html")
    if not text and not html:
        raise PayloadRejected(f"message {index}: 'text' or 'html' is required")
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise PayloadRejected(f"message {index}: 'metadata' must be an object")
    return InboundMessage(
        external_id=clean_text(str(external_id), "id", 500),
        thread_key=clean_text(str(data.get("thread_id") or external_id), "thread_id", 500),
        text=text,
        html=html,
        subject=clean_text(data.get("subject"), "subject", 500),
        language=clean_text(data.get("language"), "language", 16),
        in_reply_to=clean_text(data.get("in_reply_to"), "in_reply_to", 500),
        sent_at=parse_time(data.get("sent_at")),
        author=_author(data.get("author")),
        metadata=metadata,
    )


def messages_from_payload(body: bytes) -> list[InboundMessage]:
    data = decode_json(body)
    items = data.get("messages") if isinstance(data, dict) and "messages" in data else [data]
    if not isinstance(items, list) or not items:
        raise PayloadRejected("'messages' must be a non-empty list")
    if len(items) > MAX_MESSAGES_PER_PAYLOAD:
        raise PayloadRejected(f"at most {MAX_MESSAGES_PER_PAYLOAD} messages per payload, got {len(items)}")
    return [message_from_dict(item, index=index) for index, item in enumerate(items)]
