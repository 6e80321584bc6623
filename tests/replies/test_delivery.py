"""Send, schedule and retry through the composer, delivered by a real Celery worker to the fake Telegram
Bot API, with the delivery status on the composer and live events on the inbox WebSocket group."""

import asyncio
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import async_to_sync
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers
from django.urls import reverse
from django.utils import timezone

from apps.conversations.models import Message
from apps.core.models import AuditEvent
from apps.inbox.consumers import organization_group
from apps.replies.tasks import send_scheduled_messages_task

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def wait_for_status(message: Message, status: str, timeout: float = 30) -> Message:
    deadline = time.monotonic() + timeout
    while True:
        message.refresh_from_db()
        if message.delivery_status == status:
            return message
        assert time.monotonic() < deadline, f"still {message.delivery_status}: {message.delivery_error}"
        time.sleep(0.2)


def compose(client, conversation, **data):
    data.setdefault("channel", conversation.channel_id)
    return client.post(reverse("replies:compose", args=[conversation.pk]), data, HTTP_HX_REQUEST="true")


def deliveries(client, conversation) -> str:
    return client.get(
        reverse("replies:deliveries", args=[conversation.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()


def test_a_reply_sent_from_the_composer_is_delivered(
    telegram, telegram_conversation, agent, login, celery_worker
):
    client = login(agent)
    response = compose(client, telegram_conversation, action="send", text="It ships tomorrow.")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Reply queued on Support bot" in html and 'hx-swap-oob="innerHTML"' in html
    assert "</textarea>" in html and ">It ships tomorrow.</textarea>" not in html  # a fresh form
    message = wait_for_status(
        Message.objects.get(direction=Message.Direction.OUTBOUND), Message.Delivery.SENT
    )
    assert [sent["text"] for sent in telegram.sent] == ["It ships tomorrow."]
    assert 'data-status="sent"' in deliveries(client, telegram_conversation)
    assert AuditEvent.objects.filter(action="reply.queued", target_id=str(message.pk)).exists()


def test_a_scheduled_reply_goes_out_when_due(telegram, telegram_conversation, agent, login, celery_worker):
    client = login(agent)
    madrid = ZoneInfo("Europe/Madrid")
    at = (timezone.now() + timedelta(hours=2)).astimezone(madrid).replace(second=0, microsecond=0)
    response = compose(
        client,
        telegram_conversation,
        action="schedule",
        text="Good morning: it shipped.",
        send_at=at.strftime("%Y-%m-%dT%H:%M"),
        timezone="Europe/Madrid",
    )
    assert "Reply scheduled for" in response.content.decode()
    message = Message.objects.get(direction=Message.Direction.OUTBOUND)
    assert message.delivery_status == Message.Delivery.SCHEDULED and message.sent_at == at
    assert 'data-status="scheduled"' in deliveries(client, telegram_conversation)

    assert send_scheduled_messages_task() == 0  # the beat finds nothing due yet
    Message.objects.filter(pk=message.pk).update(sent_at=timezone.now() - timedelta(seconds=1))
    assert send_scheduled_messages_task() == 1
    wait_for_status(message, Message.Delivery.SENT)
    assert [sent["text"] for sent in telegram.sent] == ["Good morning: it shipped."]


def test_a_failed_delivery_shows_its_reason_and_is_retried(
    telegram, telegram_conversation, agent, login, celery_worker
):
    # A layer of its own: the process-wide one keeps a receive lock per process, which a receive cancelled
    # in another test's event loop can leave bound to that loop.
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    listener = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(organization_group(telegram_conversation.organization_id), listener)
    client = login(agent)
    telegram.fail_next(403, "Forbidden: bot was blocked by the user")
    compose(client, telegram_conversation, action="send", text="Are you still there?")

    message = wait_for_status(
        Message.objects.get(direction=Message.Direction.OUTBOUND), Message.Delivery.FAILED
    )
    html = deliveries(client, telegram_conversation)
    assert "Failed: Telegram sendMessage: Forbidden: bot was blocked by the user" in html
    assert reverse("replies:retry", args=[message.pk]) in html and ">Retry</button>" in html

    response = client.post(reverse("replies:retry", args=[message.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'data-status="queued"' in response.content.decode()
    wait_for_status(message, Message.Delivery.SENT)
    assert [sent["text"] for sent in telegram.sent] == ["Are you still there?"]
    retried = AuditEvent.objects.get(action="reply.retried", target_id=str(message.pk))
    assert retried.data == {"failure": "Telegram sendMessage: Forbidden: bot was blocked by the user"}

    async def events() -> list[dict]:
        received = []
        while True:
            try:
                received.append((await asyncio.wait_for(layer.receive(listener), 2))["payload"])
            except TimeoutError:
                return received

    live = [
        (event["event"], item["delivery"], item["conversation"])
        for event in async_to_sync(events)()
        for item in event["messages"]
        if item["message"] == message.pk
    ]
    conversation = telegram_conversation.pk
    # Created when sent; then each change of its delivery: failed (worker), queued (retry), sent (worker).
    assert live[0][0] == "message.created" and {item[2] for item in live} == {conversation}
    assert [delivery for event, delivery, _ in live if event == "message.delivery"] == [
        "failed",
        "queued",
        "sent",
    ]
