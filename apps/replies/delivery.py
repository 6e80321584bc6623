"""Delivering the brand's outbound messages (an agent's replies) through their channel's connector.

The connector sends (apps/connectors: no database); this module reads the queued message, records what the
platform answered (sent with its id, or failed with the reason) and tells the open screens
(conversations.hooks.messages_changed) and the webhook subscribers.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from apps.connectors.base import PayloadRejected
from apps.connectors.registry import connector_for
from apps.conversations.hooks import messages_changed
from apps.conversations.models import Message
from apps.webhooks import events as webhook_events


def message_deliver(*, message_id: int) -> None:
    """Send one queued outbound message through its channel's connector.

    TransientError / RateLimited propagate so that the task retries; anything the platform refuses for good
    marks the message failed with the reason, visible on the conversation.
    """
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("channel__brand", "conversation")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.delivery_status not in (
            Message.Delivery.QUEUED,
            Message.Delivery.SCHEDULED,
        ):
            return
        reply_to = (
            Message.objects.filter(conversation=message.conversation, direction=Message.Direction.INBOUND)
            .exclude(external_id=None)
            .order_by("-sent_at")
            .values_list("external_id", flat=True)
            .first()
            or ""
        )
        try:
            external_id = connector_for(message.channel.kind).send(
                message.channel, message, reply_to=reply_to
            )
        except PayloadRejected as error:
            message.delivery_status = Message.Delivery.FAILED
            message.delivery_error = error.reason[:2000]
            message.save(update_fields=["delivery_status", "delivery_error"])
            _announce_delivery([message])
            return
        message.external_id = external_id or message.external_id
        message.delivery_status = Message.Delivery.SENT
        message.delivery_error = ""
        message.sent_at = timezone.now()
        message.save(update_fields=["external_id", "delivery_status", "delivery_error", "sent_at"])
        _announce_delivery([message])
        webhook_events.reply_sent(message)


def _announce_delivery(messages) -> None:
    """The open inboxes see the reply's new status (sent, failed with its reason) once it is committed."""
    transaction.on_commit(lambda: messages_changed.send("message.delivery", messages))


def message_delivery_failed(*, message_id: int, reason: str) -> None:
    failed = Message.objects.filter(
        pk=message_id, delivery_status__in=[Message.Delivery.QUEUED, Message.Delivery.SCHEDULED]
    ).update(delivery_status=Message.Delivery.FAILED, delivery_error=reason[:2000])
    if failed:
        _announce_delivery(list(Message.objects.select_related("conversation").filter(pk=message_id)))


def scheduled_messages_due() -> list[int]:
    return list(
        Message.objects.filter(delivery_status=Message.Delivery.SCHEDULED, sent_at__lte=timezone.now())
        .order_by("sent_at")
        .values_list("pk", flat=True)[:1000]
    )
