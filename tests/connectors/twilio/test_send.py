"""Replies through Twilio's Messages API, and their delivery status from Twilio's status callbacks."""

import pytest

from apps.accounts.models import Role
from apps.connectors.base import PayloadRejected, RateLimited
from apps.connectors.kinds import ChannelKind
from apps.connectors.registry import connector_for
from apps.conversations.models import Conversation, Message
from apps.replies.delivery import message_deliver
from apps.replies.services import reply_create
from tests.connectors.twilio.conftest import hook_url
from tests.fakes.http import Response
from tests.fakes.twilio import CUSTOMER_NUMBER, TWILIO_NUMBER, error_body, incoming_sms, status_callback

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(twilio_channel, ingest_twilio):
    ingest_twilio(twilio_channel, incoming_sms("SMin1", "Is the shop open on Sunday?"))
    return Conversation.objects.get()


@pytest.fixture
def agent(org_a, make_membership):
    return make_membership(org_a, role=Role.COMMUNITY_MANAGER).user


def reply(conversation, agent, text, django_capture_on_commit_callbacks) -> Message:
    with django_capture_on_commit_callbacks(execute=False):
        return reply_create(conversation=conversation, author=agent, text=text)


def test_a_reply_is_sent_and_its_status_callbacks_update_it(
    conversation, agent, twilio, twilio_channel, ingest_twilio, django_capture_on_commit_callbacks
):
    message = reply(conversation, agent, "Yes, from 10 to 4.", django_capture_on_commit_callbacks)
    message_deliver(message_id=message.pk)
    assert twilio.sent == [
        {
            "To": CUSTOMER_NUMBER,
            "Body": "Yes, from 10 to 4.",
            "StatusCallback": hook_url(twilio_channel),
            "From": TWILIO_NUMBER,
        }
    ]
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.SENT and message.external_id.startswith("SM")

    ingest_twilio(twilio_channel, status_callback(message.external_id, "sent"))
    ingest_twilio(twilio_channel, status_callback(message.external_id, "delivered"))
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.DELIVERED
    assert message.metadata["platform_status"] == "delivered"


def test_an_undelivered_status_fails_the_reply_with_the_error(
    conversation, agent, twilio, twilio_channel, ingest_twilio, django_capture_on_commit_callbacks
):
    message = reply(conversation, agent, "Hello", django_capture_on_commit_callbacks)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    ingest_twilio(twilio_channel, status_callback(message.external_id, "undelivered", error_code="30003"))
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.FAILED
    assert "30003" in message.delivery_error and "unreachable" in message.delivery_error


def test_too_many_requests_leaves_the_reply_queued_for_a_retry(
    conversation, agent, twilio, django_capture_on_commit_callbacks
):
    message = reply(conversation, agent, "Hello", django_capture_on_commit_callbacks)
    twilio.next_responses.append(Response(429, error_body(429, 20429, "Too Many Requests")))
    with pytest.raises(RateLimited) as raised:
        message_deliver(message_id=message.pk)
    assert "20429" in raised.value.reason and raised.value.retry_after
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.QUEUED
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.SENT


def test_rotated_credentials_fail_the_reply_saying_what_to_fix(
    conversation, agent, twilio, twilio_channel, django_capture_on_commit_callbacks
):
    twilio_channel.credentials = {**twilio_channel.credentials, "auth_token": "rotated"}
    twilio_channel.save()
    message = reply(conversation, agent, "Hello", django_capture_on_commit_callbacks)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.FAILED
    assert "20003" in message.delivery_error and "fix it on the channel" in message.delivery_error


def test_a_malformed_answer_fails_the_reply_without_sending_it_twice(
    conversation, agent, twilio, django_capture_on_commit_callbacks
):
    message = reply(conversation, agent, "Hello", django_capture_on_commit_callbacks)
    twilio.next_responses.append(Response(201, "<html>gateway</html>"))
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (
        message.delivery_status == Message.Delivery.FAILED and "not a JSON object" in message.delivery_error
    )


def test_an_unsubscribed_recipient_fails_the_reply_with_twilios_reason(
    conversation, agent, twilio, django_capture_on_commit_callbacks
):
    message = reply(conversation, agent, "Hello", django_capture_on_commit_callbacks)
    twilio.next_responses.append(
        Response(400, error_body(400, 21610, "Attempt to send to unsubscribed recipient"))
    )
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.FAILED
    assert "21610" in message.delivery_error and "unsubscribed" in message.delivery_error


def test_test_connection(twilio, twilio_channel):
    found = connector_for(twilio_channel.kind).check(twilio_channel)
    assert "Nimbus Support" in found and TWILIO_NUMBER in found

    twilio_channel.settings = {**twilio_channel.settings, "phone_number": "+15550000000"}
    with pytest.raises(PayloadRejected, match="not a number of this Twilio account"):
        connector_for(twilio_channel.kind).check(twilio_channel)

    twilio_channel.credentials = {**twilio_channel.credentials, "auth_token": "wrong"}
    with pytest.raises(PayloadRejected, match="20003"):
        connector_for(twilio_channel.kind).check(twilio_channel)


def test_a_reply_on_sms_to_a_conversation_from_another_channel_goes_to_the_customers_number(
    brand_a, twilio, twilio_channel, agent, django_capture_on_commit_callbacks
):
    from tests.factories import ChannelFactory, ConversationFactory, IdentityFactory

    whatsapp = ChannelFactory(brand=brand_a, kind=ChannelKind.WHATSAPP)
    conversation = ConversationFactory(channel=whatsapp, external_thread_id="14155550199")
    IdentityFactory(customer=conversation.customer, kind=ChannelKind.SMS_TWILIO, external_id="+14155550199")
    with django_capture_on_commit_callbacks(execute=False):
        message = reply_create(
            conversation=conversation, author=agent, text="Also by SMS", channel=twilio_channel
        )
    message_deliver(message_id=message.pk)
    assert twilio.sent[0]["To"] == "+14155550199"
