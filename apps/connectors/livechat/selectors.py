"""What the widget shows a visitor: their own conversation, never anyone else's, never internal notes."""

from __future__ import annotations

import json
from datetime import UTC

from apps.conversations.models import Message
from apps.ingestion.models import RawPayload

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


def _pending(channel, visitor_id: str, known: set[str]) -> list[dict]:
    """Messages the visitor sent that a worker has not turned into Messages yet (stored, not processed)."""
    pending = []
    payloads = RawPayload.objects.filter(
        channel=channel,
        source=RawPayload.Source.WIDGET,
        status=RawPayload.Status.RECEIVED,
        external_id__startswith=f"widget:{visitor_id}:",
    ).order_by("received_at")[:HISTORY_LIMIT]
    for payload in payloads:
        try:
            body = json.loads(bytes(payload.body))
        except ValueError:
            continue
        if not isinstance(body, dict) or body.get("visitor") != visitor_id:
            continue
        client_id = body.get("client_message_id")
        if client_id in known:
            continue
        pending.append(
            {
                "id": client_id,
                "from": "visitor",
                "text": body.get("text") or "",
                "sent_at": body.get("sent_at")
                if isinstance(body.get("sent_at"), str)
                else _iso(payload.received_at),
            }
        )
    return pending


def visitor_history(*, channel, visitor_id: str, limit: int = HISTORY_LIMIT) -> list[dict]:
    """The last messages of this visitor's conversation on this channel, oldest first."""
    messages = list(
        Message.objects.filter(
            channel=channel,
            conversation__channel=channel,
            conversation__external_thread_id=visitor_id,
        )
        .exclude(direction=Message.Direction.NOTE)
        .exclude(direction=Message.Direction.OUTBOUND, delivery_status__in=_hidden_outbound())
        .select_related("author_user", "conversation__brand")
        .order_by("-sent_at", "-id")[:limit]
    )
    history = [widget_message(message) for message in reversed(messages)]
    history += _pending(channel, visitor_id, {item["id"] for item in history})
    return history[-limit:]


def _hidden_outbound() -> list[str]:
    return [status for status in Message.Delivery.values if status not in VISIBLE_OUTBOUND]
