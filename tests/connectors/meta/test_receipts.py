"""WhatsApp delivery receipts move the brand's outbound messages forward (never backwards)."""

import pytest

from apps.conversations.models import Message
from tests.factories import MessageFactory
from tests.fakes.meta import whatsapp_status, whatsapp_text, whatsapp_value, whatsapp_webhook

pytestmark = pytest.mark.django_db


def test_receipts_update_delivery_status(whatsapp_channel, ingest):
    ingest(whatsapp_channel, whatsapp_webhook(whatsapp_value(messages=[whatsapp_text("wamid.IN1", "hola")])))
    conversation = Message.objects.get(external_id="wamid.IN1").conversation
    reply = MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        external_id="wamid.OUT1",
        delivery_status=Message.Delivery.SENT,
    )

    ingest(
        whatsapp_channel, whatsapp_webhook(whatsapp_value(statuses=[whatsapp_status("wamid.OUT1", "read")]))
    )
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.DELIVERED and reply.metadata["platform_status"] == "read"

    # A late "sent" receipt does not move it back.
    ingest(
        whatsapp_channel, whatsapp_webhook(whatsapp_value(statuses=[whatsapp_status("wamid.OUT1", "sent")]))
    )
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.DELIVERED


def test_failed_receipt_shows_the_reason(whatsapp_channel, ingest):
    ingest(whatsapp_channel, whatsapp_webhook(whatsapp_value(messages=[whatsapp_text("wamid.IN2", "hi")])))
    conversation = Message.objects.get(external_id="wamid.IN2").conversation
    reply = MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        external_id="wamid.OUT2",
        delivery_status=Message.Delivery.SENT,
    )
    errors = [
        {
            "code": 131047,
            "title": "Re-engagement message",
            "message": "Re-engagement message",
            "error_data": {"details": "more than 24 hours"},
        }
    ]
    ingest(
        whatsapp_channel,
        whatsapp_webhook(whatsapp_value(statuses=[whatsapp_status("wamid.OUT2", "failed", errors=errors)])),
    )
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED and reply.delivery_error
