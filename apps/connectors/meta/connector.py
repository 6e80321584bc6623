"""The three Meta connectors: Facebook Messenger (+ Page comments), Instagram (+ comments), WhatsApp.

Replies are free-form text. Messenger, Instagram and WhatsApp accept those only within 24 hours of the
customer's last message (the "messaging window"); the composer enforces the window before a reply is
queued. When one gets through anyway, the platform's refusal (Graph error 10 / subcode 2018278 or
2534022, WhatsApp 131047 "Re-engagement message") marks the message failed with that reason (graph.py).
"""

from __future__ import annotations

from ..base import Interpretation, PayloadRejected
from ..kinds import ChannelKind
from ..sending import inbound_metadata, reply_recipient
from ..setup import Setting
from .comments import parse_instagram_comments, parse_page_feed
from .graph import graph_get, graph_post
from .messaging import parse_messaging
from .webhooks import META_SETUP_FIELDS, MetaWebhookConnector
from .whatsapp import interpret_whatsapp

# Messenger echoes carry back the `metadata` string of a send: this prefix marks CXM's own.
ECHO_MARK = "cxm:"
COMMENT_THREAD_PREFIXES = ("post:", "media:", "comment:")


def _text(message, *, platform: str, limit: int, unit: str = "characters") -> str:
    text = message.text or ""
    if not text.strip():
        raise PayloadRejected(f"an empty message cannot be sent on {platform}")
    size = len(text.encode()) if unit == "bytes" else len(text)
    if size > limit:
        raise PayloadRejected(f"{platform} messages are limited to {limit} {unit}; this one has {size}")
    return text


def _same_channel(channel, message) -> bool:
    return message.conversation.channel_id == channel.pk


def _recipient(channel, message, *, platform: str) -> str:
    return reply_recipient(channel, message, missing=f"the customer has no {platform} account to write to")


def _is_comment_thread(channel, message) -> bool:
    return _same_channel(channel, message) and message.conversation.external_thread_id.startswith(
        COMMENT_THREAD_PREFIXES
    )


def _comment_to_answer(channel, reply_to: str) -> str:
    """The comment a public reply goes under: the customer's latest comment, or its top-level comment
    when it is itself a reply (both platforms nest comments one level deep). "" when `reply_to` is not
    a comment (a visitor's post)."""
    metadata = inbound_metadata(channel, reply_to)
    if not metadata.get("comment_id"):
        return ""
    parent = str(metadata.get("parent_id") or "")
    if parent and parent != metadata.get("post_id"):
        return parent
    return reply_to


class MessengerConnector(MetaWebhookConnector):
    """Facebook Pages: Messenger conversations (`object: "page"`, `messaging`) and comments on the Page's
    posts (`changes` of the `feed` field).

    Echoes (`message_echoes`) of messages the Page sent with other tools (the Page inbox, Business Suite)
    are stored as outbound messages; CXM's own are recognised by the `metadata` it sends
    ("cxm:<message id>") or, when the channel's credentials name the `app_id`, by that app id.
    """

    kind = ChannelKind.MESSENGER
    webhook_object = "page"
    max_text = 2000
    # What the reply composer checks (apps/replies/limits.py): free-form messages only within 24 hours of
    # the customer's last message; comment threads take 8000 characters at any time; text only.
    limits = {"max_length": max_text, "window_hours": 24, "reaches": "customer", "comment_max_length": 8000}

    def interpret(self, channel, body: bytes, headers: dict[str, str]) -> Interpretation:
        app_id = str(channel.credentials.get("app_id") or "")

        def keep_echo(message: dict) -> bool:
            if str(message.get("metadata") or "").startswith(ECHO_MARK):
                return False
            return not (app_id and str(message.get("app_id") or "") == app_id)

        result = Interpretation()
        for entry in self.entries(body):
            result.extend(parse_messaging(entry, platform="messenger", keep_echo=keep_echo))
            result.extend(parse_page_feed(entry))
        return result

    def send(self, channel, message, reply_to: str = "") -> str:
        """A Messenger message (`POST /me/messages`, messaging_type RESPONSE), or, in a conversation
        that came from comments, a public reply (`POST /{comment-id}/comments`, or on the post itself)."""
        if _is_comment_thread(channel, message):
            text = _text(message, platform="Facebook", limit=8000)
            target = (
                _comment_to_answer(channel, reply_to)
                or message.conversation.external_thread_id.split(":", 1)[1]
            )
            data = graph_post(channel, f"{target}/comments", {"message": text}, what="Facebook comment reply")
            return str(data.get("id") or "")
        text = _text(message, platform="Messenger", limit=self.max_text)
        payload = {
            "recipient": {"id": _recipient(channel, message, platform="Messenger")},
            "messaging_type": "RESPONSE",
            "message": {"text": text, "metadata": f"{ECHO_MARK}{message.pk}"},
        }
        data = graph_post(channel, "me/messages", payload, what="Messenger send")
        if not data.get("message_id"):
            raise PayloadRejected("the Send API answered without a message_id")
        return str(data["message_id"])


class InstagramConnector(MetaWebhookConnector):
    """Instagram professional accounts: direct messages (`object: "instagram"`, `messaging`) and comments
    on the account's media (`changes` of the `comments` / `live_comments` fields).

    Echoes of the account's own messages are dropped: Instagram's Send API has no echoed metadata, so an
    echo of a CXM reply could not be told apart from a message sent in the Instagram app.
    """

    kind = ChannelKind.INSTAGRAM
    webhook_object = "instagram"
    max_text_bytes = 1000
    # What the reply composer checks (apps/replies/limits.py): 1000 bytes of UTF-8, within 24 hours of the
    # customer's last message; comment threads take 2200 characters at any time; text only.
    limits = {
        "max_length": max_text_bytes,
        "length_unit": "bytes",
        "window_hours": 24,
        "reaches": "customer",
        "comment_max_length": 2200,
    }

    def interpret(self, channel, body: bytes, headers: dict[str, str]) -> Interpretation:
        result = Interpretation()
        for entry in self.entries(body):
            result.extend(parse_messaging(entry, platform="instagram"))
            result.extend(parse_instagram_comments(entry))
        return result

    def send(self, channel, message, reply_to: str = "") -> str:
        """A direct message (`POST /me/messages`), or, in a conversation that came from comments, a public
        reply (`POST /{ig-comment-id}/replies`, or a comment on the media when there is none)."""
        if _is_comment_thread(channel, message):
            text = _text(message, platform="Instagram comments", limit=2200)
            comment = _comment_to_answer(channel, reply_to)
            thread = message.conversation.external_thread_id
            if comment:
                path = f"{comment}/replies"
            elif thread.startswith("media:"):
                path = f"{thread.split(':', 1)[1]}/comments"
            else:
                path = f"{thread.split(':', 1)[1]}/replies"
            data = graph_post(channel, path, {"message": text}, what="Instagram comment reply")
            return str(data.get("id") or "")
        text = _text(message, platform="Instagram", limit=self.max_text_bytes, unit="bytes")
        payload = {
            "recipient": {"id": _recipient(channel, message, platform="Instagram")},
            "message": {"text": text},
        }
        data = graph_post(channel, "me/messages", payload, what="Instagram send")
        if not data.get("message_id"):
            raise PayloadRejected("the Send API answered without a message_id")
        return str(data["message_id"])


def _interactive(text: str, buttons: list[dict]) -> dict:
    """WhatsApp's interactive message for choices: reply buttons (at most 3, titles of 20 characters), else
    a list (at most 10 rows of 24); the answer comes back as an interactive reply with the choice's id."""
    if len(buttons) <= 3:
        return {
            "type": "button",
            "body": {"text": text[:1024]},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": b["data"][:256], "title": b["text"][:20]}}
                    for b in buttons
                ]
            },
        }
    rows = [{"id": b["data"][:200], "title": b["text"][:24]} for b in buttons[:10]]
    return {
        "type": "list",
        "body": {"text": text[:4096]},
        "action": {"button": "Choose", "sections": [{"title": "Choose", "rows": rows}]},
    }


class WhatsAppConnector(MetaWebhookConnector):
    """WhatsApp Business numbers through the Cloud API (`object: "whatsapp_business_account"`)."""

    kind = ChannelKind.WHATSAPP
    webhook_object = "whatsapp_business_account"
    max_text = 4096
    # What the reply composer checks (apps/replies/limits.py): free-form text only within the 24-hour
    # customer-service window (outside it WhatsApp takes approved templates, which CXM does not send yet).
    limits = {"max_length": max_text, "window_hours": 24, "reaches": "customer", "buttons": True}
    setup_fields = (
        Setting(
            "phone_number_id",
            "Phone number id",
            credential=True,
            required=True,
            help="WhatsApp Manager → the number's “Phone number ID” (not the phone number itself).",
        ),
        *(field for field in META_SETUP_FIELDS if field.key != "app_id"),
    )

    def check(self, channel) -> str:
        """The token reads the channel's number (GET /{phone_number_id}), and requests must be signed."""
        number = str(channel.credentials.get("phone_number_id") or "")
        if not number.isdigit():
            raise PayloadRejected("the channel has no WhatsApp phone number id")
        found = graph_get(
            channel, number, what="WhatsApp phone number", fields="display_phone_number,verified_name"
        )
        super(MetaWebhookConnector, self).check(channel)
        name = found.get("verified_name") or ""
        return (
            f"connected to {found.get('display_phone_number') or number} {name}".strip()
            + "; signed webhooks only"
        )

    def interpret(self, channel, body: bytes, headers: dict[str, str]) -> Interpretation:
        """Messages, receipts (`statuses[]`), reactions / edits / revokes, and ignored events."""
        number = str(channel.credentials.get("phone_number_id") or "")
        result = Interpretation()
        for entry in self.entries(body):
            result.extend(interpret_whatsapp(entry, phone_number_id=number))
        return result

    def send(self, channel, message, reply_to: str = "") -> str:
        """`POST /{phone_number_id}/messages` with a text body, quoting the customer's latest message."""
        text = _text(message, platform="WhatsApp", limit=self.max_text)
        phone_number_id = channel.credentials.get("phone_number_id")
        if not phone_number_id:
            raise PayloadRejected("the channel has no WhatsApp phone_number_id configured")
        to = _recipient(channel, message, platform="WhatsApp")
        if to.startswith("group:"):
            raise PayloadRejected("replies to WhatsApp groups are not supported")
        payload: dict = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": {"body": text, "preview_url": False},
        }
        buttons = (message.metadata or {}).get("buttons")
        if buttons:
            payload.pop("text")
            payload["type"] = "interactive"
            payload["interactive"] = _interactive(text, buttons)
        if reply_to and _same_channel(channel, message):
            payload["context"] = {"message_id": reply_to}
        data = graph_post(channel, f"{phone_number_id}/messages", payload, what="WhatsApp send")
        messages = data.get("messages")
        if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
            raise PayloadRejected("the Cloud API answered without messages[0].id")
        return str(messages[0].get("id") or "")
