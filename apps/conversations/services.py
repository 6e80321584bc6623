"""State changes of conversations and messages. Every entry point (pages, API, tasks) goes through here."""

from __future__ import annotations

from datetime import datetime

import nh3
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.core.audit import audit_record

from .models import Conversation, Message, Tag


def html_sanitise(html: str) -> str:
    """HTML from a platform, reduced to inert formatting: no scripts, handlers, styles or forms."""
    return nh3.clean(html, link_rel="noopener noreferrer nofollow") if html else ""


@transaction.atomic
def message_add(
    *,
    conversation: Conversation,
    direction: str,
    text: str,
    sent_at: datetime | None = None,
    html: str = "",
    external_id: str | None = None,
    language: str = "",
    author_identity=None,
    author_user=None,
    raw_payload=None,
    delivery_status: str | None = None,
    metadata: dict | None = None,
) -> Message:
    """Add one message to a thread and keep the conversation's counters and timestamps current."""
    sent_at = sent_at or timezone.now()
    if delivery_status is None:
        delivery_status = (
            Message.Delivery.RECEIVED if direction != Message.Direction.OUTBOUND else Message.Delivery.QUEUED
        )
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        channel_id=conversation.channel_id,
        direction=direction,
        text=text,
        html=html_sanitise(html),
        external_id=external_id,
        language=language,
        author_identity=author_identity,
        author_user=author_user,
        raw_payload=raw_payload,
        sent_at=sent_at,
        delivery_status=delivery_status,
        metadata=metadata or {},
    )
    updates: dict = {"message_count": F("message_count") + 1}
    is_latest = conversation.last_message_at is None or sent_at > conversation.last_message_at
    if direction != Message.Direction.NOTE and is_latest:
        updates["last_message_at"] = sent_at
    if direction == Message.Direction.OUTBOUND and conversation.first_response_at is None:
        updates["first_response_at"] = sent_at
    if direction == Message.Direction.INBOUND and conversation.status == Conversation.Status.CLOSED:
        # A customer writing again reopens the thread.
        updates["status"] = Conversation.Status.OPEN
        updates["resolved_at"] = None
    Conversation.objects.filter(pk=conversation.pk).update(**updates)
    # Mirror the update in memory rather than reading the row back.
    conversation.message_count += 1
    for field, value in updates.items():
        if field != "message_count":
            setattr(conversation, field, value)
    return message


@transaction.atomic
def conversation_assign(*, conversation: Conversation, assignee, actor) -> Conversation:
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    conversation.assignee = assignee
    conversation.save(update_fields=["assignee", "updated_at"])
    audit_record(
        organization=conversation.organization,
        actor=actor,
        action="conversation.assigned",
        target=conversation,
        data={"assignee": assignee.pk if assignee else None},
    )
    return conversation


@transaction.atomic
def conversation_set_status(
    *, conversation: Conversation, status: str, actor, snoozed_until: datetime | None = None
) -> Conversation:
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    conversation.status = status
    conversation.snoozed_until = snoozed_until if status == Conversation.Status.SNOOZED else None
    conversation.resolved_at = timezone.now() if status == Conversation.Status.CLOSED else None
    conversation.full_clean(exclude=["customer", "channel", "brand"])
    conversation.save()
    audit_record(
        organization=conversation.organization,
        actor=actor,
        action="conversation.status",
        target=conversation,
        data={"status": status},
    )
    return conversation


@transaction.atomic
def reply_create(
    *, conversation: Conversation, author, text: str, channel=None, send_at: datetime | None = None
) -> Message:
    """An agent's reply: stored as an outbound message, then delivered by a worker through the connector.

    `channel` may be another channel of the same brand where the customer has an identity; `send_at`
    schedules the delivery.
    """
    from apps.connectors.tasks import send_message_task

    channel = channel or conversation.channel
    if channel.brand_id != conversation.brand_id:
        raise ValueError("a reply goes out on a channel of the conversation's brand")
    scheduled = send_at is not None and send_at > timezone.now()
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        channel=channel,
        direction=Message.Direction.OUTBOUND,
        text=text,
        author_user=author,
        sent_at=send_at or timezone.now(),
        delivery_status=Message.Delivery.SCHEDULED if scheduled else Message.Delivery.QUEUED,
    )
    updates: dict = {"message_count": F("message_count") + 1, "last_message_at": message.sent_at}
    if conversation.first_response_at is None:
        updates["first_response_at"] = message.sent_at
    Conversation.objects.filter(pk=conversation.pk).update(**updates)
    if not scheduled:
        # Scheduled replies are sent by send_scheduled_messages_task when due, not as broker ETAs, which
        # Redis would redeliver after its visibility timeout.
        transaction.on_commit(lambda: send_message_task.delay(message.pk))
    return message


def tag_get_or_create(*, organization, name: str) -> Tag:
    tag, _ = Tag.objects.get_or_create(organization=organization, name=name.strip()[:60])
    return tag


# A receipt never moves a message backwards: "sent" after "delivered" (receipts arrive out of order) is kept
# as delivered; "failed" counts only until the message is known delivered.
_DELIVERY_RANK = {
    Message.Delivery.QUEUED: 0,
    Message.Delivery.SCHEDULED: 0,
    Message.Delivery.SENT: 1,
    Message.Delivery.DELIVERED: 2,
    Message.Delivery.FAILED: 1,
}


def messages_delivery_update(*, channel, updates) -> list[Message]:
    """Apply platform receipts (DeliveryUpdate) to the brand's outbound messages on that channel."""
    by_id = {update.external_id: update for update in updates if update.external_id}
    changed = []
    for message in Message.objects.filter(
        channel=channel, direction=Message.Direction.OUTBOUND, external_id__in=by_id
    ).select_for_update():
        update = by_id[message.external_id]
        current = _DELIVERY_RANK.get(message.delivery_status, 0)
        if update.status == Message.Delivery.FAILED:
            if message.delivery_status == Message.Delivery.DELIVERED:
                continue
        elif _DELIVERY_RANK.get(update.status, 0) <= current:
            continue
        message.delivery_status = update.status
        message.delivery_error = update.error[:2000] if update.status == Message.Delivery.FAILED else ""
        message.metadata = {**message.metadata, "platform_status": update.platform_status}
        message.save(update_fields=["delivery_status", "delivery_error", "metadata"])
        changed.append(message)
    return changed


def conversations_reprioritise() -> int:
    """Raise the priority of open conversations as they wait for the brand (beat, every few minutes):
    the priority of the customer's latest message plus a bonus per hour of waiting, capped."""
    from apps.classification.priority import WAITING_MAX, WAITING_PER_HOUR

    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH latest AS (
                SELECT c.id, m.priority, m.sent_at, m.direction
                FROM conversations_conversation c
                CROSS JOIN LATERAL (
                    SELECT priority, sent_at, direction FROM conversations_message
                    WHERE conversation_id = c.id AND direction <> 'note'
                    ORDER BY sent_at DESC, id DESC LIMIT 1
                ) m
                WHERE c.status IN ('open', 'pending')
            )
            UPDATE conversations_conversation c
            SET priority = LEAST(100, latest.priority + LEAST(
                %s, %s * EXTRACT(EPOCH FROM now() - latest.sent_at) / 3600))
            FROM latest
            WHERE c.id = latest.id AND latest.direction = 'inbound' AND latest.priority IS NOT NULL
            """,
            [WAITING_MAX, WAITING_PER_HOUR],
        )
        return cursor.rowcount
