"""Reads of what ingestion keeps: channels' payload health, rejected and ignored payloads, a live-chat
visitor's history (their stored messages, and what they sent that no worker has processed yet)."""

from __future__ import annotations

import json

from apps.connectors.livechat.selectors import HISTORY_LIMIT, VISIBLE_OUTBOUND, _iso, widget_message
from apps.connectors.selectors import channel_list
from apps.conversations.models import Message

from .models import RawPayload


def channel_health(*, membership):
    """Each channel with its received / rejected payload counts and how long since its last fetch."""
    from django.db.models import Count, Q

    return channel_list(membership=membership).annotate(
        received_count=Count("raw_payloads", filter=Q(raw_payloads__status=RawPayload.Status.RECEIVED)),
        rejected_count=Count("raw_payloads", filter=Q(raw_payloads__status=RawPayload.Status.REJECTED)),
        processed_count=Count(
            "raw_payloads",
            filter=Q(raw_payloads__status__in=[RawPayload.Status.PROCESSED, RawPayload.Status.APPLIED]),
        ),
    )


def channel_rejected_payloads(*, channel, limit: int = 50):
    return RawPayload.objects.filter(channel=channel, status=RawPayload.Status.REJECTED).order_by(
        "-received_at"
    )[:limit]


def channel_ignored_events(*, channel) -> list[dict]:
    """The channel's ignored events counted by event type, most frequent first, each with the reason given
    for its latest one: {"event_type", "count", "last_seen", "reason"}. Counted are the payloads ignored
    whole, and the payloads that stored or applied something yet also carried ignored events (kept in their
    outcome, e.g. a WhatsApp notification with a message and a status for no message): `count` is the
    number of payloads in which the event type was ignored."""
    from django.db import connection
    from django.db.models import Count, Max

    ignored = RawPayload.objects.filter(channel=channel, status=RawPayload.Status.IGNORED)
    by_type = ignored.values("event_type").annotate(count=Count("id"), last_seen=Max("received_at"))
    events = {event["event_type"]: event for event in by_type}
    for event in events.values():
        event["reason"] = (
            ignored.filter(event_type=event["event_type"])
            .order_by("-received_at")
            .values_list("ignored_reason", flat=True)
            .first()
        )
    table = RawPayload._meta.db_table
    # Events inside payloads that were not ignored whole: one row per event type, the payloads counted once
    # however often they name it, with the reason the latest one gave.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT event, count(DISTINCT id), max(received_at),
                   (array_agg(reason ORDER BY received_at DESC))[1]
            FROM (
                SELECT p.id, p.received_at, e->>'event' AS event, e->>'reason' AS reason
                FROM {table} p, jsonb_array_elements(p.outcome->'ignored') e
                WHERE p.channel_id = %s AND p.status IN (%s, %s)
                  AND jsonb_typeof(p.outcome->'ignored') = 'array'
            ) inside
            GROUP BY event
            """,
            [channel.pk, RawPayload.Status.PROCESSED, RawPayload.Status.APPLIED],
        )
        for event_type, count, last_seen, reason in cursor.fetchall():
            event = events.get(event_type)
            if event is None:
                events[event_type] = {
                    "event_type": event_type,
                    "count": count,
                    "last_seen": last_seen,
                    "reason": reason,
                }
                continue
            event["count"] += count
            if last_seen > event["last_seen"]:
                event["last_seen"], event["reason"] = last_seen, reason
    return sorted(events.values(), key=lambda event: (-event["count"], event["event_type"] or ""))


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
