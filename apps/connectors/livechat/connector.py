"""The website live-chat channel: the embeddable widget (static/widget/cxm-chat.js) talks to
`consumers.LivechatConsumer` over a WebSocket; each visitor message is stored as a RawPayload (source
"widget") in the JSON below, which `parse` turns into one message of that visitor's conversation.

    {"version": 1, "type": "message", "visitor": "<32 hex>", "client_message_id": "<8-64 [A-Za-z0-9_-]>",
     "text": "…", "sent_at": "2026-11-25T10:00:00Z", "page": {"url": "…", "title": "…"},
     "identity": "<server-sealed identity of a logged-in visitor, optional>"}

One visitor (one browser) is one conversation: the thread key is the visitor id. A visitor logged in on
the brand's site (a valid visitor token) writes as their website account (identity kind "website",
external id = the site's user id, verified email), with a strong link to the anonymous visitor of the same
browser, so that their earlier anonymous chat joins the same profile.

Replies go back through the Channels group of the visitor (`send`); a visitor who is offline sees them in
the history the socket sends when they come back.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from redis.exceptions import RedisError

from apps.customers.models import StrongLink

from ..base import Connector, InboundAuthor, InboundMessage, PayloadRejected, TransientError
from ..kinds import ChannelKind
from ..normalized import clean_text, decode_json, parse_time
from ..setup import LINES, Setting
from .visitor import (
    CLIENT_MESSAGE_ID,
    VisitorIdentity,
    identity_seal,
    identity_unseal,
    visitor_group,
    visitor_id_valid,
)

PAYLOAD_VERSION = 1
MAX_TEXT_CHARS = 5000


def payload_external_id(visitor_id: str, client_message_id: str) -> str:
    return f"widget:{visitor_id}:{client_message_id}"


def widget_payload(
    *,
    visitor_id: str,
    client_message_id: str,
    text: str,
    page: dict | None = None,
    identity: VisitorIdentity | None = None,
    sent_at: datetime | None = None,
) -> bytes:
    """The raw payload the consumer stores for one visitor message."""
    body = {
        "version": PAYLOAD_VERSION,
        "type": "message",
        "visitor": visitor_id,
        "client_message_id": client_message_id,
        "text": text,
        "sent_at": (sent_at or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
        "page": page or {},
    }
    if identity is not None:
        body["identity"] = identity_seal(visitor_id, identity)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


class LivechatConnector(Connector):
    kind = ChannelKind.LIVECHAT
    setup_fields = (
        Setting("widget.title", "Widget title", help="Shown at the top of the chat panel."),
        Setting("widget.greeting", "Greeting", help="Shown first to every visitor (never stored)."),
        Setting("widget.color", "Accent colour", help="e.g. #1d4ed8."),
        Setting(
            "allowed_origins",
            "Sites allowed to embed the widget",
            LINES,
            help="One a line, e.g. https://shop.example or https://*.shop.example; empty: any site.",
        ),
        Setting(
            "identity_secret",
            "Identity secret",
            secret=True,
            help="What the brand's site signs visitors' tokens with; empty: visitors are anonymous.",
        ),
    )
    # What the reply composer checks (apps/replies/limits.py): the widget shows MAX_TEXT_CHARS and is
    # reached only in the visitor's own conversation; text only.
    limits = {"max_length": MAX_TEXT_CHARS, "length_unit": "characters", "reaches": "conversation"}

    def parse(self, channel, body: bytes, headers: dict[str, str]) -> list[InboundMessage]:
        data = decode_json(body)
        if not isinstance(data, dict) or data.get("type") != "message":
            raise PayloadRejected('a live-chat payload is a JSON object with "type": "message"')
        if data.get("version") != PAYLOAD_VERSION:
            raise PayloadRejected(f"unknown live-chat payload version {data.get('version')!r}")
        visitor_id = data.get("visitor")
        if not visitor_id_valid(visitor_id):
            raise PayloadRejected("'visitor' must be 32 lowercase hex digits")
        client_id = data.get("client_message_id")
        if not isinstance(client_id, str) or not CLIENT_MESSAGE_ID.match(client_id):
            raise PayloadRejected("'client_message_id' must be 8 to 64 characters of [A-Za-z0-9_-]")
        text = clean_text(data.get("text"), "text", MAX_TEXT_CHARS).strip()
        if not text:
            raise PayloadRejected("the message has no text")
        page = data.get("page") if isinstance(data.get("page"), dict) else {}
        metadata = {
            "client_message_id": client_id,
            "visitor": visitor_id,
            "page_url": clean_text(page.get("url") if isinstance(page.get("url"), str) else "", "page", 500),
            "page_title": clean_text(
                page.get("title") if isinstance(page.get("title"), str) else "", "page", 200
            ),
        }
        identity = identity_unseal(visitor_id, data.get("identity"))
        if data.get("identity") and identity is None:
            metadata["identity_ignored"] = "the identity seal did not verify; kept as an anonymous visitor"
        if identity is not None:
            author = InboundAuthor(
                kind="website",
                external_id=identity.user_id,
                display_name=identity.name,
                email=identity.email,
                email_verified=bool(identity.email),
                links=[
                    StrongLink(
                        ChannelKind.LIVECHAT,
                        visitor_id,
                        "logged in on the brand's website in the same browser",
                    )
                ],
            )
        else:
            author = InboundAuthor(external_id=visitor_id, display_name=f"Visitor {visitor_id[:6]}")
        return [
            InboundMessage(
                external_id=payload_external_id(visitor_id, client_id),
                thread_key=visitor_id,
                text=text,
                sent_at=parse_time(data.get("sent_at")),
                author=author,
                metadata=metadata,
            )
        ]

    def send(self, channel, message, reply_to: str = "") -> str:
        from .selectors import widget_message

        conversation = message.conversation
        visitor_id = conversation.external_thread_id
        if conversation.channel_id != channel.pk or not visitor_id_valid(visitor_id):
            raise PayloadRejected("a live-chat reply goes to the visitor of a live-chat conversation")
        layer = get_channel_layer()
        if layer is None:
            raise PayloadRejected("no Channels layer is configured: live chat cannot deliver replies")
        try:
            async_to_sync(layer.group_send)(
                visitor_group(channel.pk, visitor_id),
                {"type": "livechat.message", "message": widget_message(message)},
            )
        except (OSError, RedisError) as error:
            raise TransientError(f"the channel layer is unreachable: {error}") from error
        return f"widget-out:{message.pk}"
