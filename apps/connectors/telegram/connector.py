"""The Telegram connector: webhook or getUpdates polling in, sendMessage out."""

from __future__ import annotations

import hmac
import json

from ..base import Connector, FetchedItem, FetchResult, Interpretation, PayloadRejected, WebhookForbidden
from ..kinds import ChannelKind
from ..normalized import decode_json
from ..sending import reply_recipient
from ..setup import CHOICE, NUMBER, Setting, WebhookGuide, api_base
from .bot_api import DEFAULT_API_BASE, bot_call
from .updates import interpret_update, update_id

SECRET_HEADER = "x-telegram-bot-api-secret-token"
MAX_TEXT_UTF16_UNITS = 4096  # sendMessage: "1-4096 characters after entities parsing"
POLL_LIMIT = 100


def _recipient_chat(channel, message) -> str:
    """The chat to write to (a private chat's id is the user's id)."""
    return reply_recipient(channel, message, missing="the customer has no Telegram account to write to")


def _chat_param(chat_id: str) -> int | str:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def _reply_target(chat_id: str, reply_to: str) -> int | None:
    """The message id in `reply_to` ("<chat>:<message>[:edit:<date>]") when it is in this chat."""
    parts = reply_to.split(":")
    if len(parts) >= 2 and parts[0] == chat_id and parts[1].isdigit():
        return int(parts[1])
    return None


class TelegramConnector(Connector):
    kind = ChannelKind.TELEGRAM
    # What the reply composer checks (apps/replies/limits.py): sendMessage's 4096 UTF-16 units; a bot
    # writes to any customer with a Telegram identity who has started it; text only.
    limits = {
        "max_length": MAX_TEXT_UTF16_UNITS,
        "length_unit": "utf-16",
        "reaches": "customer",
        "buttons": True,
    }
    receives_webhooks = True
    # Only channels whose settings say {"receive": "polling"} call getUpdates; the others answer empty.
    polls = True
    poll_interval_seconds = 60
    setup_fields = (
        Setting(
            "bot_token",
            "Bot token",
            secret=True,
            required=True,
            help="From @BotFather (/newbot or /token): digits, a colon, then 35 letters and signs.",
        ),
        Setting(
            "receive",
            "Receive updates by",
            CHOICE,
            choices=(
                ("webhook", "Webhook (Telegram pushes each update)"),
                ("polling", "Polling (getUpdates)"),
            ),
            default="webhook",
            help="A bot receives updates one way only: by webhook, or by polling getUpdates.",
        ),
        Setting(
            "webhook_secret",
            "Webhook secret",
            secret=True,
            generated=True,
            help="Telegram sends it with every update. Leave empty: CXM makes one and gives it to Telegram.",
        ),
        Setting(
            "poll_timeout", "Long-polling timeout (seconds)", NUMBER, min_value=0, max_value=50, advanced=True
        ),
        api_base("api_base", DEFAULT_API_BASE, "Bot API"),
    )
    webhook_guide = WebhookGuide(
        steps=(
            "Choose “Webhook” under “Receive updates by”, and save.",
            "Press “Register the webhook with Telegram”: CXM calls setWebhook with this URL and the "
            "channel's secret, which Telegram then sends with every update.",
            "Write to the bot in Telegram; the message appears in the inbox.",
        ),
        registers_itself=True,
    )

    def check(self, channel) -> str:
        """getMe (the token works), then, for a webhook channel, getWebhookInfo (where Telegram delivers)."""
        bot = bot_call(channel, "getMe", {}) or {}
        found = f"connected as @{bot.get('username') or bot.get('first_name') or bot.get('id')}"
        if channel.settings.get("receive", "webhook") == "polling":
            return f"{found}; updates are polled with getUpdates"
        info = bot_call(channel, "getWebhookInfo", {}) or {}
        if not info.get("url"):
            return f"{found}; no webhook is registered yet: register it below"
        found += f"; Telegram delivers to {info['url']}"
        if info.get("pending_update_count"):
            found += f" ({info['pending_update_count']} update(s) waiting)"
        if info.get("last_error_message"):
            found += f"; its last delivery failed: {info['last_error_message']}"
        return found

    def register_webhook(self, channel, url: str) -> str:
        """setWebhook with the channel's secret (sent back in X-Telegram-Bot-Api-Secret-Token)."""
        secret = channel.credentials.get("webhook_secret")
        if not secret:
            raise PayloadRejected("the channel has no webhook secret: save its settings first")
        if channel.settings.get("receive", "webhook") == "polling":
            raise PayloadRejected("the channel polls getUpdates: choose “Webhook” first")
        bot_call(channel, "setWebhook", {"url": url, "secret_token": secret})
        return f"Telegram will deliver updates to {url}"

    def verify_webhook(self, channel, headers: dict[str, str], body: bytes) -> None:
        secret = channel.credentials.get("webhook_secret")
        if not secret:
            raise WebhookForbidden("the channel has no Telegram webhook secret configured", status=503)
        given = headers.get(SECRET_HEADER, "")
        if not given:
            raise WebhookForbidden("missing X-Telegram-Bot-Api-Secret-Token header", status=401)
        if not hmac.compare_digest(given.encode(), str(secret).encode()):
            raise WebhookForbidden("X-Telegram-Bot-Api-Secret-Token does not match the channel's secret")

    def payload_external_id(self, channel, body: bytes, headers: dict[str, str]) -> str | None:
        try:
            number = update_id(json.loads(body))
        except ValueError:
            return None
        return f"update:{number}" if number is not None else None

    def interpret(self, channel, body: bytes, headers: dict[str, str]) -> Interpretation:
        return interpret_update(decode_json(body))

    def fetch(self, channel) -> FetchResult:
        """getUpdates from the offset after the last update stored; webhook channels fetch nothing."""
        cursor = dict(channel.cursor or {})
        if channel.settings.get("receive", "webhook") != "polling":
            return FetchResult(items=[], cursor=cursor)
        timeout = int(channel.settings.get("poll_timeout", 0))
        params: dict = {"timeout": timeout, "limit": POLL_LIMIT}
        if cursor.get("offset"):
            params["offset"] = cursor["offset"]
        updates = bot_call(channel, "getUpdates", params, timeout=timeout + 30)
        if not isinstance(updates, list):
            raise PayloadRejected("getUpdates did not return a list of updates")
        items, last = [], None
        for update in updates:
            number = update_id(update)
            body = json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode()
            # One with no update_id is kept all the same (processing rejects it, with the reason).
            items.append(
                FetchedItem(external_id=f"update:{number}" if number is not None else None, body=body)
            )
            if number is not None:
                last = number if last is None else max(last, number)
        if last is not None:
            # Asking for offset = last + 1 also tells Telegram it may forget everything before it.
            cursor["offset"] = last + 1
        return FetchResult(items=items, cursor=cursor)

    def send(self, channel, message, reply_to: str = "") -> str:
        """sendMessage, as a reply to the customer's latest message when it is in the same chat.

        Returns "<chat id>:<message id>", the same shape as inbound external ids.
        """
        text = message.text or ""
        if not text.strip():
            raise PayloadRejected("an empty message cannot be sent on Telegram")
        if len(text.encode("utf-16-le")) // 2 > MAX_TEXT_UTF16_UNITS:
            raise PayloadRejected(f"Telegram messages are limited to {MAX_TEXT_UTF16_UNITS} characters")
        chat_id = _recipient_chat(channel, message)
        params: dict = {"chat_id": _chat_param(chat_id), "text": text}
        target = _reply_target(chat_id, reply_to) if message.conversation.channel_id == channel.pk else None
        if target is not None:
            params["reply_parameters"] = {"message_id": target, "allow_sending_without_reply": True}
        buttons = (message.metadata or {}).get("buttons")
        if buttons:
            # An inline keyboard, one row: a press comes back as a callback_query with the button's data.
            params["reply_markup"] = {
                "inline_keyboard": [[{"text": b["text"], "callback_data": b["data"][:64]} for b in buttons]]
            }
        result = bot_call(channel, "sendMessage", params)
        if not isinstance(result, dict) or result.get("message_id") is None:
            raise PayloadRejected("sendMessage answered without a message_id")
        chat = result.get("chat") if isinstance(result.get("chat"), dict) else {}
        return f"{chat.get('id', chat_id)}:{result['message_id']}"
