"""What the widget shows a visitor: their own conversation, never anyone else's, never internal notes."""

from __future__ import annotations

from datetime import UTC

from apps.conversations.models import Message

HISTORY_LIMIT = 100
# Outbound messages a visitor may see: delivered ones (queued ones arrive live once sent; scheduled ones
# are not sent yet; failed ones never left).
VISIBLE_OUTBOUND = (Message.Delivery.SENT, Message.Delivery.DELIVERED)


def _iso(moment) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def agent_label(message: Message) -> str:
    user = message.author_user
    if user is not None and user.first_name:
        return user.first_name
    return message.conversation.brand.name if message.conversation_id else ""


def widget_message(message: Message) -> dict:
    """One message as the widget receives it (live or in the history)."""
    if message.direction == Message.Direction.OUTBOUND:
        return {
            "id": f"widget-out:{message.pk}",
            "from": "agent",
            "name": agent_label(message),
            "text": message.text,
            "sent_at": _iso(message.sent_at),
        }
    return {
        "id": (message.metadata or {}).get("client_message_id") or message.external_id or f"in:{message.pk}",
        "from": "visitor",
        "text": message.text,
        "sent_at": _iso(message.sent_at),
    }
