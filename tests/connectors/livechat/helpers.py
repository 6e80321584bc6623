"""Shared pieces of the live-chat tests: the channel, and a visitor's socket through the real ASGI app."""

from __future__ import annotations

import itertools
import time

from channels.testing import WebsocketCommunicator

from apps.connectors.kinds import ChannelKind
from apps.connectors.livechat.visitor import visitor_token_sign
from cxm.asgi import application
from tests.factories import ChannelFactory

IDENTITY_SECRET = "brand-site-shared-secret"
# The test app's ALLOWED_HOSTS accept this Origin (cxm.asgi's AllowedHostsOriginValidator).
ORIGIN = b"http://127.0.0.1"

_ids = itertools.count(1)


def livechat_channel(brand, **fields):
    fields.setdefault("credentials", {"identity_secret": IDENTITY_SECRET})
    return ChannelFactory(brand=brand, kind=ChannelKind.LIVECHAT, **fields)


def client_id() -> str:
    return f"msg-{next(_ids):06d}-test"


def site_token(*, user_id="user-42", email="ana@example.com", name="Ana Lima", exp_in=600, secret=None):
    claims = {"user_id": user_id, "email": email, "name": name, "exp": int(time.time()) + exp_in}
    return visitor_token_sign(secret or IDENTITY_SECRET, claims)


async def open_socket(token: str, *, origin: bytes | None = ORIGIN, app=application):
    headers = [(b"origin", origin)] if origin else []
    communicator = WebsocketCommunicator(app, f"/ws/livechat/{token}/", headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def start(token: str, *, visitor: str | None = None, visitor_token: str | None = None, **kwargs):
    """Connect and say hello; returns (communicator, ready event)."""
    communicator, connected, code = await open_socket(token, **kwargs)
    assert connected, f"refused with {code}"
    hello = {
        "type": "hello",
        "visitor": visitor,
        "page": {"url": "https://shop.example/help", "title": "Help"},
    }
    if visitor_token:
        hello["visitor_token"] = visitor_token
    await communicator.send_json_to(hello)
    ready = await communicator.receive_json_from(timeout=5)
    assert ready["type"] == "ready", ready
    return communicator, ready


async def send_message(communicator, text: str, message_id: str | None = None) -> tuple[str, dict]:
    """Send one message; returns (its id, the ack), once the echo to the visitor's tabs came back too."""
    message_id = message_id or client_id()
    await communicator.send_json_to({"type": "message", "id": message_id, "text": text})
    ack = await communicator.receive_json_from(timeout=5)
    assert ack["type"] == "ack" and ack["id"] == message_id, ack
    if not ack["duplicate"]:
        echo = await communicator.receive_json_from(timeout=5)
        assert echo["type"] == "message" and echo["message"]["id"] == message_id, echo
    return message_id, ack
