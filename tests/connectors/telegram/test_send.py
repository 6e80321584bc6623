"""Agent replies through sendMessage: reply threading, flood control, a bot the customer blocked."""

import pytest

from apps.accounts.models import Role
from apps.connectors.base import RateLimited
from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Conversation, Message
from apps.ingestion.services import payload_process
from apps.replies.delivery import message_deliver
from apps.replies.services import reply_create
from tests.factories import ChannelFactory, ConversationFactory, IdentityFactory
from tests.fakes.telegram import CUSTOMER, private_text_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(telegram_channel, post_update):
    response = post_update(telegram_channel, private_text_update(1, "Where is my order?"))
    payload_process(payload_id=response.json()["received"])
    return Conversation.objects.get()


@pytest.fixture
def agent(org_a, make_membership):
    return make_membership(org_a, role=Role.COMMUNITY_MANAGER).user


def reply(conversation, agent, text, django_capture_on_commit_callbacks, **kwargs) -> Message:
    with django_capture_on_commit_callbacks(execute=False):
        return reply_create(conversation=conversation, author=agent, text=text, **kwargs)


def test_reply_answers_the_customers_latest_message(
    conversation, agent, telegram, django_capture_on_commit_callbacks
):
    message = reply(conversation, agent, "It ships tomorrow.", django_capture_on_commit_callbacks)
    message_deliver(message_id=message.pk)

    assert telegram.sent == [
        {
            "chat_id": CUSTOMER["id"],
            "text": "It ships tomorrow.",
            "reply_parameters": {"message_id": 101, "allow_sending_without_reply": True},
        }
    ]
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.SENT
    assert message.external_id == f"{CUSTOMER['id']}:5000"


def test_flood_control_leaves_the_message_queued_for_a_retry(
    conversation, agent, telegram, django_capture_on_commit_callbacks
):
    message = reply(conversation, agent, "Hello", django_capture_on_commit_callbacks)
    telegram.fail_next(429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RateLimited) as raised:
        message_deliver(message_id=message.pk)
    assert raised.value.retry_after == 7
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.QUEUED

    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.SENT


def test_a_bot_the_customer_blocked_fails_the_message_with_telegrams_reason(
    conversation, agent, telegram, django_capture_on_commit_callbacks
):
    message = reply(conversation, agent, "Hello", django_capture_on_commit_callbacks)
    telegram.fail_next(403, "Forbidden: bot was blocked by the user")
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.FAILED
    assert "bot was blocked by the user" in message.delivery_error


def test_a_too_long_reply_fails_before_calling_telegram(
    conversation, agent, telegram, django_capture_on_commit_callbacks
):
    message = reply(conversation, agent, "a" * 4097, django_capture_on_commit_callbacks)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.FAILED and "4096" in message.delivery_error
    assert telegram.sent == []


def test_reply_on_telegram_to_a_conversation_from_another_channel_goes_to_the_customers_chat(
    brand_a, telegram_channel, agent, telegram, django_capture_on_commit_callbacks
):
    email_channel = ChannelFactory(brand=brand_a, kind=ChannelKind.EMAIL)
    conversation = ConversationFactory(channel=email_channel, external_thread_id="<abc@mail>")
    IdentityFactory(customer=conversation.customer, kind=ChannelKind.TELEGRAM, external_id="555")
    message = reply(
        conversation, agent, "Also on Telegram", django_capture_on_commit_callbacks, channel=telegram_channel
    )
    message_deliver(message_id=message.pk)
    assert telegram.sent == [{"chat_id": 555, "text": "Also on Telegram"}]
