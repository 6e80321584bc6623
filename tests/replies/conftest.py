from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Conversation, Message
from tests.connectors.livechat.test_widget_browser import asgi_server, page  # noqa: F401 (fixtures shared here)
from tests.factories import (
    ChannelFactory,
    ConversationFactory,
    CustomerFactory,
    IdentityFactory,
    MessageFactory,
    membership_create,
)
from tests.fakes.telegram import CUSTOMER, TOKEN, FakeTelegram


def hours_ago(hours: float):
    return timezone.now() - timedelta(hours=hours)


def conversation_on(channel, *, text: str = "Where is my order?", sent_at=None, language: str = "", **fields):
    """A conversation on the channel whose customer wrote `text` (at `sent_at`, default now)."""
    sent_at = sent_at or timezone.now()
    fields.setdefault("customer", CustomerFactory(organization=channel.organization, display_name="Ana Lima"))
    conversation = ConversationFactory(channel=channel, last_message_at=sent_at, **fields)
    MessageFactory(conversation=conversation, text=text, sent_at=sent_at, language=language)
    return conversation


def outbound_reply(conversation: Conversation, text: str, *, author=None, at=None) -> Message:
    return MessageFactory(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        text=text,
        author_user=author,
        sent_at=at or timezone.now(),
        delivery_status=Message.Delivery.SENT,
    )


@pytest.fixture
def agent(org_a):
    membership = membership_create(org_a, Role.COMMUNITY_MANAGER)
    membership.user.first_name = "Sam"
    membership.user.save()
    return membership


@pytest.fixture
def telegram_channel(brand_a):
    return ChannelFactory(
        brand=brand_a,
        kind=ChannelKind.TELEGRAM,
        name="Support bot",
        credentials={"bot_token": TOKEN, "webhook_secret": "tg-secret"},
        settings={"api_base": "http://127.0.0.1:9"},
    )


@pytest.fixture
def telegram(telegram_channel):
    """The fake Bot API, with the channel pointed at it."""
    with FakeTelegram(token=TOKEN) as fake:
        telegram_channel.settings = {"api_base": fake.url}
        telegram_channel.save()
        yield fake


@pytest.fixture
def telegram_conversation(telegram_channel):
    """A private Telegram chat in which the customer just asked a question."""
    conversation = conversation_on(telegram_channel, external_thread_id=str(CUSTOMER["id"]))
    IdentityFactory(
        customer=conversation.customer, kind=ChannelKind.TELEGRAM, external_id=str(CUSTOMER["id"])
    )
    return conversation
