"""The LINE connector (Messaging API): signed webhooks in, reply or push out.

- Signature: `X-Line-Signature` is the Base64 HMAC-SHA256 of the raw body keyed with the channel secret
  (https://developers.line.biz/en/docs/messaging-api/receiving-messages/#verifying-signatures).
- Replies: `POST /v2/bot/message/reply` with the reply token of the customer's latest message while it is
  valid (used once, within a minute of the event), else `POST /v2/bot/message/push` to the chat, with an
  `X-Line-Retry-Key` so that a retried push is not sent twice. LINE answers `{"sentMessages": [{"id"}]}`:
  the message is sent with that id (LINE sends no delivery receipts to bots).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

from ..base import Connector, Interpretation, PayloadRejected, WebhookForbidden
from ..kinds import ChannelKind
from ..normalized import decode_json
from ..sending import inbound_metadata, reply_recipient
from ..setup import Setting, WebhookGuide, api_base
from .api import DEFAULT_API_BASE, DEFAULT_DATA_BASE, AlreadyAccepted, InvalidReplyToken, line_json
from .events import MAX_TEXT, interpret_events
from .media import fetch_content, with_profile

SIGNATURE_HEADER = "x-line-signature"
# LINE: a reply token "must be used within one minute of receiving the webhook"; a few seconds are kept
# for the trip.
REPLY_TOKEN_SECONDS = 50


def sign(channel_secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()).decode()


def _recipient(channel, message) -> str:
    """The chat to push to: a user, group or room id."""
    return reply_recipient(channel, message, missing="the customer has no LINE account to write to")


def _sent_id(answer: dict, what: str) -> str:
    sent = answer.get("sentMessages")
    if not isinstance(sent, list) or not sent or not isinstance(sent[0], dict) or not sent[0].get("id"):
        raise PayloadRejected(f"LINE accepted the {what} but returned no sentMessages id")
    return str(sent[0]["id"])


class LineConnector(Connector):
    kind = ChannelKind.LINE
    receives_webhooks = True
    # What the reply composer checks (apps/replies/limits.py): a text message object holds 5000
    # characters; a push reaches any user who has added the account as a friend.
    limits = {"max_length": MAX_TEXT, "length_unit": "characters", "reaches": "customer"}
    setup_fields = (
        Setting(
            "channel_secret",
            "Channel secret",
            secret=True,
            required=True,
            help="LINE Developers Console → your Messaging API channel → Basic settings → Channel secret.",
        ),
        Setting(
            "channel_access_token",
            "Channel access token",
            secret=True,
            required=True,
            help="Messaging API tab → Channel access token (long-lived), or a stateless token you renew.",
        ),
        Setting(
            "fetch_content",
            "Fetch images, videos and files",
            "flag",
            default=True,
            help="Read the content users send from LINE's content endpoint (LINE keeps it a limited time).",
        ),
        api_base("api_base", DEFAULT_API_BASE, "Messaging API"),
        api_base("data_api_base", DEFAULT_DATA_BASE, "Content API"),
    )
    webhook_guide = WebhookGuide(
        steps=(
            "In the LINE Developers Console, open the channel's Messaging API tab.",
            "Paste this URL as the Webhook URL, press “Verify”, then turn “Use webhook” on.",
            "In the LINE Official Account Manager, turn auto-reply messages off so that agents answer.",
            "Write to the account in LINE; the message appears in the inbox.",
        ),
    )

    def check(self, channel) -> str:
        """GET /v2/bot/info (the token works), then the webhook endpoint LINE delivers to."""
        info = line_json(channel, "GET", "/v2/bot/info")
        found = f"connected as {info.get('displayName') or info.get('basicId') or info.get('userId')}"
        if info.get("basicId"):
            found += f" ({info['basicId']})"
        try:
            endpoint = line_json(channel, "GET", "/v2/bot/channel/webhook/endpoint")
        except PayloadRejected:
            return found
        if not endpoint.get("endpoint"):
            return f"{found}; no webhook URL is set in the LINE console yet"
        state = "on" if endpoint.get("active") else "off (turn “Use webhook” on)"
        return f"{found}; LINE delivers to {endpoint['endpoint']}, webhook {state}"

    def verify_webhook(self, channel, headers: dict[str, str], body: bytes) -> None:
        secret = channel.credentials.get("channel_secret")
        if not secret:
            raise WebhookForbidden("the channel has no LINE channel secret configured", status=503)
        given = headers.get(SIGNATURE_HEADER, "")
        if not given:
            raise WebhookForbidden("missing X-Line-Signature header", status=401)
        if not hmac.compare_digest(given.encode(), sign(str(secret), body).encode()):
            raise WebhookForbidden("X-Line-Signature does not match the body signed with the channel secret")

    def payload_external_id(self, channel, body: bytes, headers: dict[str, str]) -> str | None:
        """From the events' webhookEventIds: LINE redelivers the same events when a delivery failed."""
        try:
            events = json.loads(body).get("events")
        except (ValueError, AttributeError):
            return None
        ids = [e.get("webhookEventId") for e in events or [] if isinstance(e, dict)]
        if not ids or not all(isinstance(i, str) and i for i in ids):
            return None
        return "events:" + hashlib.sha256(",".join(ids).encode()).hexdigest()[:40]

    def interpret(self, channel, body: bytes, headers: dict[str, str]) -> Interpretation:
        result = interpret_events(decode_json(body))
        for message in result.messages:
            with_profile(channel, message)
            if channel.settings.get("fetch_content", True):
                for entry in message.metadata.get("media", []):
                    fetch_content(channel, entry)
        return result

    def send(self, channel, message, reply_to: str = "") -> str:
        text = message.text or ""
        if not text.strip():
            raise PayloadRejected("an empty message cannot be sent on LINE")
        if len(text) > MAX_TEXT:
            raise PayloadRejected(f"LINE text messages are limited to {MAX_TEXT} characters")
        messages = [{"type": "text", "text": text}]
        same_channel = message.conversation.channel_id == channel.pk
        replied = inbound_metadata(channel, reply_to) if same_channel else {}
        token, sent_ms = replied.get("reply_token"), replied.get("reply_token_at")
        if token and isinstance(sent_ms, int | float) and time.time() - sent_ms / 1000 < REPLY_TOKEN_SECONDS:
            try:
                answer = line_json(
                    channel, "POST", "/v2/bot/message/reply", json={"replyToken": token, "messages": messages}
                )
                return _sent_id(answer, "reply")
            except InvalidReplyToken:
                pass  # used by an earlier reply, or expired on the way: the same text goes as a push
        try:
            answer = line_json(
                channel,
                "POST",
                "/v2/bot/message/push",
                json={"to": _recipient(channel, message), "messages": messages},
                # The same key for every try of this message: LINE answers 409 to a retry of a push it sent.
                headers={
                    "X-Line-Retry-Key": str(uuid.uuid5(uuid.NAMESPACE_URL, f"cxm-message-{message.pk}"))
                },
            )
        except AlreadyAccepted as accepted:
            # An earlier try went through (its answer was lost): sent, known by LINE's request id.
            return f"request:{accepted.request_id}"
        return _sent_id(answer, "push")
