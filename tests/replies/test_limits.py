"""Each channel's limits, checked before a reply is queued: length, messaging window, identity, reach."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Message
from apps.replies.limits import reply_length, reply_limits
from apps.replies.selectors import reply_channels
from apps.replies.services import ReplyRefused, reply_send
from tests.factories import BrandFactory, ChannelFactory, IdentityFactory, MessageFactory

from .conftest import conversation_on, hours_ago

pytestmark = pytest.mark.django_db


def codes(issues, *, blocking=None):
    return [issue.code for issue in issues if blocking is None or issue.blocking is blocking]


def test_telegram_counts_utf16_units_and_refuses_more_than_4096(telegram_conversation, telegram_channel):
    emoji = "🙂"  # one character, two UTF-16 units
    assert reply_length(telegram_conversation, telegram_channel, emoji * 2048).used == 4096
    at_the_limit = reply_limits(telegram_conversation, telegram_channel, text=emoji * 2048)
    assert [(i.blocking, i.message) for i in at_the_limit] == [(False, "0 characters left.")]

    issues = reply_limits(telegram_conversation, telegram_channel, text=emoji * 2048 + "!")
    assert codes(issues, blocking=True) == ["length"]
    assert "4097 of at most 4096 characters" in issues[0].message and "by 1" in issues[0].message


def test_nearly_full_warns_how_much_is_left(telegram_conversation, telegram_channel):
    issues = reply_limits(telegram_conversation, telegram_channel, text="a" * 4000)
    assert [(i.code, i.blocking, i.message) for i in issues] == [("length", False, "96 characters left.")]


def test_x_weighs_cjk_double_and_links_as_23(brand_a):
    x = ChannelFactory(brand=brand_a, kind=ChannelKind.X)
    conversation = conversation_on(x)
    assert reply_length(conversation, x, "你好" * 70).used == 280
    assert (
        reply_length(conversation, x, "see https://example.com/a/very/long/path/indeed ok").used == 4 + 23 + 3
    )
    assert codes(reply_limits(conversation, x, text="你好" * 70 + "!"), blocking=True) == ["length"]


def test_instagram_counts_bytes_but_comment_threads_take_2200_characters(brand_a):
    instagram = ChannelFactory(brand=brand_a, kind=ChannelKind.INSTAGRAM)
    direct = conversation_on(instagram, external_thread_id="1789")
    text = "é" * 600  # 1200 bytes
    assert reply_length(direct, instagram, text).used == 1200
    assert codes(reply_limits(direct, instagram, text=text), blocking=True) == ["length"]

    comments = conversation_on(instagram, external_thread_id="media:1790")
    assert reply_limits(comments, instagram, text=text) == []
    assert reply_length(comments, instagram, text).limit == 2200


def test_email_has_no_length_limit_and_no_window(brand_a):
    email = ChannelFactory(brand=brand_a, kind=ChannelKind.EMAIL)
    conversation = conversation_on(email, sent_at=hours_ago(24 * 30))
    assert reply_limits(conversation, email, text="a" * 100_000) == []


@pytest.mark.parametrize(
    ("hours", "expected"),
    [(1, []), (23, [("window", False)]), (25, [("window", True)])],
)
def test_whatsapp_window_from_the_customers_last_message(brand_a, hours, expected):
    whatsapp = ChannelFactory(brand=brand_a, kind=ChannelKind.WHATSAPP)
    conversation = conversation_on(whatsapp, sent_at=hours_ago(hours))
    issues = reply_limits(conversation, whatsapp, text="Hello")
    assert [(issue.code, issue.blocking) for issue in issues] == expected


def test_the_window_counts_from_the_latest_inbound_message_not_from_replies(brand_a):
    messenger = ChannelFactory(brand=brand_a, kind=ChannelKind.MESSENGER)
    conversation = conversation_on(messenger, sent_at=hours_ago(30), external_thread_id="psid-1")
    MessageFactory(conversation=conversation, direction=Message.Direction.OUTBOUND, sent_at=hours_ago(1))
    issues = reply_limits(conversation, messenger, text="Hello")
    assert codes(issues, blocking=True) == ["window"]
    message = issues[0].message.replace("\xa0", " ")  # timesince() joins its parts with no-break spaces
    assert "within 24 hours" in message and "theirs was 1 day, 6 hours ago" in message


def test_a_scheduled_reply_is_checked_against_the_window_at_its_time(brand_a):
    whatsapp = ChannelFactory(brand=brand_a, kind=ChannelKind.WHATSAPP)
    conversation = conversation_on(whatsapp, sent_at=hours_ago(20))
    assert reply_limits(conversation, whatsapp, text="Hi", send_at=timezone.now() + timedelta(hours=1)) == []
    late = reply_limits(conversation, whatsapp, text="Hi", send_at=timezone.now() + timedelta(hours=5))
    assert codes(late, blocking=True) == ["window"] and "at the scheduled time" in late[0].message
    past = reply_limits(conversation, whatsapp, text="Hi", send_at=timezone.now() - timedelta(minutes=1))
    assert codes(past, blocking=True) == ["schedule"]


def test_another_channel_needs_an_identity_of_the_customer_there(brand_a, telegram_channel):
    email = ChannelFactory(brand=brand_a, kind=ChannelKind.EMAIL)
    conversation = conversation_on(email)
    issues = reply_limits(conversation, telegram_channel, text="Hello")
    assert codes(issues) == ["identity"] and "no Telegram account" in issues[0].message
    assert reply_channels(conversation=conversation) == [email]

    IdentityFactory(customer=conversation.customer, kind=ChannelKind.TELEGRAM, external_id="555")
    assert reply_limits(conversation, telegram_channel, text="Hello") == []
    assert reply_channels(conversation=conversation) == [email, telegram_channel]


def test_email_reaches_any_address_on_the_profile(brand_a, telegram_conversation):
    email = ChannelFactory(brand=brand_a, kind=ChannelKind.EMAIL)
    assert codes(reply_limits(telegram_conversation, email, text="Hi")) == ["identity"]
    IdentityFactory(customer=telegram_conversation.customer, kind=ChannelKind.X, email="ana@example.com")
    assert reply_limits(telegram_conversation, email, text="Hi") == []
    assert email in reply_channels(conversation=telegram_conversation)


def test_public_channels_answer_only_their_own_conversation(brand_a, telegram_conversation):
    x = ChannelFactory(brand=brand_a, kind=ChannelKind.X)
    IdentityFactory(customer=telegram_conversation.customer, kind=ChannelKind.X)
    issues = reply_limits(telegram_conversation, x, text="Hi")
    assert codes(issues, blocking=True) == ["reach"]
    assert x not in reply_channels(conversation=telegram_conversation)


def test_read_only_kinds_and_other_brands_channels_cannot_send(brand_a, org_a):
    feed = ChannelFactory(brand=brand_a, kind=ChannelKind.FEED)
    conversation = conversation_on(feed)
    issues = reply_limits(conversation, feed, text="Hi")
    assert codes(issues) == ["channel"] and issues[0].blocking

    elsewhere = ChannelFactory(brand=BrandFactory(organization=org_a), kind=ChannelKind.EMAIL)
    issues = reply_limits(conversation, elsewhere, text="Hi")
    assert codes(issues) == ["channel"] and "another brand" in issues[0].message


def test_leftover_variables_warn_attachments_and_empty_text_block(telegram_conversation, telegram_channel):
    issues = reply_limits(telegram_conversation, telegram_channel, text="Your order {order_id} ships")
    assert [(i.code, i.blocking) for i in issues] == [("variables", False)]
    assert "{order_id}" in issues[0].message
    assert codes(reply_limits(telegram_conversation, telegram_channel, text="  \n"), blocking=True) == [
        "empty"
    ]
    issues = reply_limits(telegram_conversation, telegram_channel, text="see the photo", attachment_count=1)
    assert codes(issues, blocking=True) == ["attachments"]


def test_the_service_enforces_the_limits_again(brand_a, agent, django_capture_on_commit_callbacks):
    whatsapp = ChannelFactory(brand=brand_a, kind=ChannelKind.WHATSAPP)
    conversation = conversation_on(whatsapp, sent_at=hours_ago(48))
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(ReplyRefused) as refused,
    ):
        reply_send(conversation=conversation, author=agent.user, text="Hello")
    assert [issue.code for issue in refused.value.issues] == ["window"]
    assert not conversation.messages.filter(direction=Message.Direction.OUTBOUND).exists()
    assert callbacks == []
