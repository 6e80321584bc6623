"""Replies through POST /sms/json, their delivery receipts, and Vonage's errors."""

import pytest

from apps.accounts.models import Role
from apps.connectors.base import PayloadRejected, RateLimited
from apps.connectors.registry import connector_for
from apps.conversations.models import Conversation, Message
from apps.ingestion.models import RawPayload
from apps.replies.delivery import message_deliver
from apps.replies.services import reply_create
from tests.connectors.vonage.conftest import hook_url
from tests.fakes.http import Response
from tests.fakes.vonage import CUSTOMER_MSISDN, VONAGE_NUMBER, delivery_receipt, inbound_sms

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(vonage_channel, ingest_vonage):
    ingest_vonage(vonage_channel, inbound_sms("0B01", "Can I change my delivery address?"))
    return Conversation.objects.get()


@pytest.fixture
def agent(org_a, make_membership):
    return make_membership(org_a, role=Role.COMMUNITY_MANAGER).user


def reply(conversation, agent, text, django_capture_on_commit_callbacks) -> Message:
    with django_capture_on_commit_callbacks(execute=False):
        return reply_create(conversation=conversation, author=agent, text=text)


def test_a_reply_is_sent_and_its_receipt_marks_it_delivered(
    conversation, agent, vonage, vonage_channel, ingest_vonage, django_capture_on_commit_callbacks
):
    message = reply(
        conversation, agent, "Sí, escríbenos la nueva dirección.", django_capture_on_commit_callbacks
    )
    message_deliver(message_id=message.pk)
    [sent] = vonage.sent
    assert sent["to"] == CUSTOMER_MSISDN and sent["from"] == VONAGE_NUMBER
    assert sent["type"] == "unicode" and sent["callback"] == hook_url(vonage_channel)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.SENT

    payload = ingest_vonage(vonage_channel, delivery_receipt(message.external_id, "accepted"))
    assert payload.status == RawPayload.Status.APPLIED
    ingest_vonage(vonage_channel, delivery_receipt(message.external_id, "delivered"))
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.DELIVERED


def test_a_failed_receipt_says_why(
    conversation, agent, vonage, vonage_channel, ingest_vonage, django_capture_on_commit_callbacks
):
    message = reply(conversation, agent, "Hello", django_capture_on_commit_callbacks)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    ingest_vonage(vonage_channel, delivery_receipt(message.external_id, "failed", err_code="6"))
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.FAILED and "anti-spam" in message.delivery_error


def test_throttling_leaves_the_reply_queued(conversation, agent, vonage, django_capture_on_commit_callbacks):
    message = reply(conversation, agent, "Hello", django_capture_on_commit_callbacks)
    vonage.next_responses.append(
        Response(200, {"message-count": "1", "messages": [{"status": "1", "error-text": "Throttled"}]})
    )
    with pytest.raises(RateLimited):
        message_deliver(message_id=message.pk)
    vonage.next_responses.append(Response(429, {"title": "Too Many Requests"}, {"Retry-After": "3"}))
    with pytest.raises(RateLimited) as raised:
        message_deliver(message_id=message.pk)
    assert raised.value.retry_after == 3
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.QUEUED
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.SENT


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            {"message-count": "1", "messages": [{"status": "9", "error-text": "Partner Quota Violation"}]},
            "out of credit",
        ),
        (
            {"message-count": "1", "messages": [{"status": "6", "error-text": "Invalid Message"}]},
            "Invalid Message",
        ),
        ("<html>Bad gateway</html>", "not a JSON object"),
        ({"message-count": "0", "messages": []}, "without a status"),
    ],
)
def test_refusals_and_malformed_answers_fail_the_reply_with_the_reason(
    conversation, agent, vonage, django_capture_on_commit_callbacks, answer, reason
):
    message = reply(conversation, agent, "Hello", django_capture_on_commit_callbacks)
    vonage.next_responses.append(Response(200, answer))
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.FAILED and reason in message.delivery_error


def test_rotated_credentials_fail_the_reply_saying_what_to_fix(
    conversation, agent, vonage, vonage_channel, django_capture_on_commit_callbacks
):
    vonage_channel.credentials = {**vonage_channel.credentials, "api_secret": "rotated"}
    vonage_channel.save()
    message = reply(conversation, agent, "Hello", django_capture_on_commit_callbacks)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert (
        message.delivery_status == Message.Delivery.FAILED
        and "fix it on the channel" in message.delivery_error
    )


def test_test_connection(vonage, vonage_channel):
    assert "10.28" in connector_for(vonage_channel.kind).check(vonage_channel)
    vonage_channel.credentials = {**vonage_channel.credentials, "api_secret": "wrong"}
    with pytest.raises(PayloadRejected, match="fix it on the channel"):
        connector_for(vonage_channel.kind).check(vonage_channel)
