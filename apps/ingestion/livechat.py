"""The live-chat widget's WebSocket: /ws/livechat/<channel webhook token>/ (protocol in
apps/connectors/livechat/README.md). It receives, as the webhook view does (views.py), and stores; the
live-chat connector (apps/connectors/livechat) parses the stored payloads and sends the replies.

The socket is accepted only for an existing, active live-chat channel, from an allowed Origin when the
channel lists some (settings["allowed_origins"]). The visitor then says `hello` (their id, optionally a
visitor token of the brand's site), joins their own Channels group and gets their conversation's
history. Each message is stored durably as a RawPayload before it is acknowledged; the ingestion workers
turn it into a Message. Agent replies arrive through the visitor's group (`LivechatConnector.send`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.connectors.livechat.connector import MAX_TEXT_CHARS, payload_external_id, widget_payload
from apps.connectors.livechat.visitor import (
    CLIENT_MESSAGE_ID,
    VisitorIdentity,
    VisitorTokenInvalid,
    visitor_group,
    visitor_id_new,
    visitor_id_valid,
    visitor_token_verify,
)
from apps.core.throttle import SlidingWindow

logger = logging.getLogger(__name__)

# Close codes (4000-4999 are the application's own).
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_UNKNOWN_CHANNEL = 4404  # unknown, paused or not a live-chat channel: the same answer for all
CLOSE_HELLO_TIMEOUT = 4408
CLOSE_FLOOD = 4429

MAX_FRAME_CHARS = 20_000
MESSAGES_PER_WINDOW = 20
FRAMES_PER_WINDOW = 60
WINDOW_SECONDS = 10.0
HELLO_TIMEOUT_SECONDS = 30.0


def _origin(value: str) -> str:
    """`scheme://host[:port]`, lower-case, without a default port; "" when it is not an origin."""
    try:
        parts = urlsplit(value.strip().lower())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return ""
    default = {"http": 80, "https": 443}[parts.scheme]
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def origin_allowed(origin: str, allowed: list) -> bool:
    """Exact origins ("https://shop.example"), or every subdomain with "https://*.shop.example"."""
    actual = _origin(origin) if origin else ""
    if not actual:
        return False
    for pattern in allowed:
        if not isinstance(pattern, str):
            continue
        if pattern.strip() == "*":
            return True
        if "://*." in pattern:
            scheme, _, domain = pattern.strip().lower().partition("://*.")
            wanted = _origin(f"{scheme}://{domain}")
            if wanted:
                wanted_scheme, wanted_host = wanted.split("://", 1)
                actual_scheme, actual_host = actual.split("://", 1)
                if actual_scheme == wanted_scheme and actual_host.endswith("." + wanted_host):
                    return True
            continue
        if _origin(pattern) == actual:
            return True
    return False


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return ""


def _short_text(value, limit: int) -> str:
    return value.replace("\x00", "")[:limit] if isinstance(value, str) else ""


class LivechatConsumer(AsyncJsonWebsocketConsumer):
    livechat = None  # the CXM Channel (not to be confused with Channels' channel_name)
    visitor_id: str | None = None
    identity: VisitorIdentity | None = None
    group: str | None = None

    async def connect(self):
        token = self.scope["url_route"]["kwargs"].get("token", "")
        self.livechat = await self._load_channel(token)
        if self.livechat is None:
            await self.close(code=CLOSE_UNKNOWN_CHANNEL)
            return
        allowed = (self.livechat.settings or {}).get("allowed_origins") or []
        if allowed and not origin_allowed(_header(self.scope, b"origin"), allowed):
            logger.info(
                "live chat refused an origin",
                extra={"channel": self.livechat.pk, "origin": _header(self.scope, b"origin")[:200]},
            )
            await self.close(code=CLOSE_FORBIDDEN_ORIGIN)
            return
        self.messages = SlidingWindow(MESSAGES_PER_WINDOW, WINDOW_SECONDS)
        self.frames = SlidingWindow(FRAMES_PER_WINDOW, WINDOW_SECONDS)
        self.page: dict = {}
        await self.accept()
        self.hello_timer = asyncio.ensure_future(self._close_without_hello())

    async def disconnect(self, code):
        timer = getattr(self, "hello_timer", None)
        if timer is not None:
            timer.cancel()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def _close_without_hello(self):
        await asyncio.sleep(HELLO_TIMEOUT_SECONDS)
        if self.visitor_id is None:
            await self.close(code=CLOSE_HELLO_TIMEOUT)

    # Incoming frames -----------------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        allowed, _ = self.frames.allow()
        if not allowed:
            await self.close(code=CLOSE_FLOOD)
            return
        if text_data is None:
            await self._error("bad_frame", "send JSON text frames")
            return
        if len(text_data) > MAX_FRAME_CHARS:
            await self._error("too_long", f"a frame holds at most {MAX_FRAME_CHARS} characters")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("bad_json", "the frame is not JSON")
            return
        if not isinstance(content, dict):
            await self._error("bad_json", "the frame is not a JSON object")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "hello":
            await self._hello(content)
        elif kind == "message":
            await self._message(content)
        else:
            await self._error("unknown_type", "the type must be hello, message or ping")

    async def _hello(self, content):
        if self.visitor_id is not None:
            await self._error("already_started", "hello is sent once per connection")
            return
        visitor_id = content.get("visitor")
        self.visitor_id = visitor_id if visitor_id_valid(visitor_id) else visitor_id_new()
        page = content.get("page") if isinstance(content.get("page"), dict) else {}
        self.page = {"url": _short_text(page.get("url"), 500), "title": _short_text(page.get("title"), 200)}
        warning = None
        token = content.get("visitor_token")
        if token:
            secret = (self.livechat.credentials or {}).get("identity_secret", "")
            try:
                self.identity = visitor_token_verify(secret, token)
            except VisitorTokenInvalid as error:
                warning = {"type": "warning", "code": error.code, "detail": error.detail}
                logger.warning(
                    "live chat visitor token refused",
                    extra={"channel": self.livechat.pk, "reason": error.code},
                )
        self.group = visitor_group(self.livechat.pk, self.visitor_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        history = await self._history()
        await self.send_json(
            {
                "type": "ready",
                "visitor": self.visitor_id,
                "identified": self.identity is not None,
                "name": self.identity.name if self.identity else "",
                "history": history,
                "widget": self._widget_settings(),
                "limits": {
                    "max_chars": MAX_TEXT_CHARS,
                    "messages": MESSAGES_PER_WINDOW,
                    "seconds": int(WINDOW_SECONDS),
                },
            }
        )
        if warning:
            await self.send_json(warning)

    async def _message(self, content):
        client_id = content.get("id")
        if self.visitor_id is None:
            await self._error("not_ready", "say hello first", client_id)
            return
        if not isinstance(client_id, str) or not CLIENT_MESSAGE_ID.match(client_id):
            await self._error("bad_id", "'id' must be 8 to 64 characters of [A-Za-z0-9_-]")
            return
        text = content.get("text")
        if not isinstance(text, str) or not text.strip():
            await self._error("empty", "the message has no text", client_id)
            return
        text = text.replace("\x00", "").strip()
        if len(text) > MAX_TEXT_CHARS:
            await self._error(
                "too_long",
                f"a message holds at most {MAX_TEXT_CHARS} characters",
                client_id,
                limit=MAX_TEXT_CHARS,
            )
            return
        allowed, retry_after = self.messages.allow()
        if not allowed:
            await self._error(
                "rate_limited", "too many messages; wait a moment", client_id, retry_after=retry_after
            )
            return
        body = widget_payload(
            visitor_id=self.visitor_id,
            client_message_id=client_id,
            text=text,
            page=self.page,
            identity=self.identity,
        )
        stored = await self._store(client_id, body)
        if stored is None:
            await self._error("unavailable", "this chat is not available now", client_id)
            await self.close(code=CLOSE_UNKNOWN_CHANNEL)
            return
        created, sent_at = stored
        await self.send_json({"type": "ack", "id": client_id, "duplicate": not created})
        if created:  # the visitor's other tabs show it too
            await self.channel_layer.group_send(
                self.group,
                {
                    "type": "livechat.message",
                    "message": {"id": client_id, "from": "visitor", "text": text, "sent_at": sent_at},
                },
            )

    # Events from the visitor's group ------------------------------------------------------------------

    async def livechat_message(self, event):
        await self.send_json({"type": "message", "message": event["message"]})

    # Helpers ------------------------------------------------------------------------------------------

    async def _error(self, code: str, detail: str, client_id=None, **extra):
        event = {"type": "error", "code": code, "detail": detail, **extra}
        if isinstance(client_id, str) and CLIENT_MESSAGE_ID.match(client_id):
            event["id"] = client_id
        await self.send_json(event)

    def _widget_settings(self) -> dict:
        """What the brand may set on the channel for the widget's look: settings["widget"]."""
        widget = (self.livechat.settings or {}).get("widget") or {}
        widget = widget if isinstance(widget, dict) else {}
        result = {key: _short_text(widget.get(key), 200) for key in ("title", "greeting") if widget.get(key)}
        color = widget.get("color")
        if isinstance(color, str) and re.match(r"^#[0-9a-fA-F]{6}$", color):
            result["color"] = color
        return result

    @database_sync_to_async
    def _load_channel(self, token: str):
        from apps.connectors.kinds import ChannelKind
        from apps.connectors.models import Channel

        if not token or len(token) > 64:
            return None
        return (
            Channel.objects.select_related("organization", "brand")
            .filter(webhook_token=token, kind=ChannelKind.LIVECHAT, status=Channel.Status.ACTIVE)
            .first()
        )

    @database_sync_to_async
    def _history(self) -> list[dict]:
        from .selectors import visitor_history

        return visitor_history(channel=self.livechat, visitor_id=self.visitor_id)

    @database_sync_to_async
    def _store(self, client_id: str, body: bytes):
        """(created, sent_at) once stored; None when the channel is no longer active."""
        from apps.connectors.models import Channel

        from .models import RawPayload
        from .services import payload_receive

        if not Channel.objects.filter(pk=self.livechat.pk, status=Channel.Status.ACTIVE).exists():
            return None
        headers = {
            name: _header(self.scope, name.encode())[:1000]
            for name in ("origin", "user-agent")
            if _header(self.scope, name.encode())
        }
        received = payload_receive(
            channel=self.livechat,
            source=RawPayload.Source.WIDGET,
            body=body,
            headers=headers,
            content_type="application/json",
            external_id=payload_external_id(self.visitor_id, client_id),
        )
        stored = json.loads(bytes(received.payload.body))
        return received.created, stored.get("sent_at")
