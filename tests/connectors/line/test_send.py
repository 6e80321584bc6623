"""Replies on LINE: the reply token while it is valid, a push after, the answer's id as the delivery status;
LINE's errors (expired token, rate limit, monthly limit, a lost answer) handled; "Test connection"."""

import time

import pytest

from apps.connectors.base import PayloadRejected, RateLimited
from apps.connectors.line.connector import LineConnector
from apps.conversations.models import Message
from apps.replies.delivery import message_deliver
from tests.fakes.http import Response
from tests.fakes.line import USER_ID, text_event, webhook

pytestmark = pytest.mark.django_db


def test_a_prompt_reply_uses_the_reply_token_and_a_later_one_is_pushed(
    line_channel, line, ingest_line, agent_reply
):
    # A first exchange whose token is long expired: pushed (and the reply machinery warmed up, so that
    # the prompt reply below is well within the token's minute even on a busy machine).
    ingest_line(line_channel, webhook(text_event("5000", "Hello?", at_ms=0)))
    assert agent_reply(line_channel, "Hello!").delivery_status == Message.Delivery.SENT
    assert len(line.pushed) == 1 and not line.replied

    ingest_line(line_channel, webhook(text_event("5001", "Is my parcel coming today?")))
    first = agent_reply(line_channel, "Yes, before 6 pm.")
    assert first.delivery_status == Message.Delivery.SENT and first.external_id == "461230966842064898"
    assert line.replied == [
        {"replyToken": "reply-5001", "messages": [{"type": "text", "text": "Yes, before 6 pm."}]}
    ]

    # The token is spent: LINE refuses it ("Invalid reply token"), the same text goes as a push.
    second = agent_reply(line_channel, "Anything else?")
    assert second.delivery_status == Message.Delivery.SENT
    assert line.pushed[-1] == {"to": USER_ID, "messages": [{"type": "text", "text": "Anything else?"}]}
    pushes = [r for r in line.requests if r.path == "/v2/bot/message/push"]
    assert len(pushes) == 2 and len(pushes[-1].headers["x-line-retry-key"]) == 36


def test_a_reply_after_the_tokens_validity_is_a_push(line_channel, line, ingest_line, agent_reply):
    old = int((time.time() - 120) * 1000)
    ingest_line(line_channel, webhook(text_event("5002", "hello?", at_ms=old)))
    reply = agent_reply(line_channel, "Hello Ana")
    assert reply.delivery_status == Message.Delivery.SENT and not line.replied and len(line.pushed) == 1
    assert not [r for r in line.requests if r.path == "/v2/bot/message/reply"]


def test_an_expired_access_token_fails_the_reply_with_what_to_do(
    line_channel, line, ingest_line, agent_reply
):
    ingest_line(line_channel, webhook(text_event("5003", "hi")))
    line.token = "a-newer-token"  # the channel's token was revoked
    reply = agent_reply(line_channel, "Hello")
    assert reply.delivery_status == Message.Delivery.FAILED
    assert (
        "access token was refused" in reply.delivery_error
        and "LINE Developers Console" in reply.delivery_error
    )


def test_rate_limits_are_retried_and_the_monthly_limit_is_not(line_channel, line, ingest_line, agent_reply):
    ingest_line(line_channel, webhook(text_event("5004", "hi", at_ms=0)))
    reply = agent_reply(line_channel, "Hello", deliver=False)
    line.next_responses.append(
        Response(
            429, {"message": "The API rate limit has been exceeded. Try again later."}, {"Retry-After": "7"}
        )
    )
    with pytest.raises(RateLimited) as limited:
        message_deliver(message_id=reply.pk)
    assert limited.value.retry_after == 7.0
    line.next_responses.append(Response(429, {"message": "You have reached your monthly limit."}))
    message_deliver(message_id=reply.pk)
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED and "monthly limit" in reply.delivery_error


def test_a_retried_push_that_line_accepted_before_is_sent_once(line_channel, line, ingest_line, agent_reply):
    ingest_line(line_channel, webhook(text_event("5005", "hi", at_ms=0)))
    reply = agent_reply(line_channel, "Hello", deliver=False)
    message = Message.objects.select_related("conversation", "channel").get(pk=reply.pk)
    LineConnector().send(line_channel, message)  # this try's answer was lost on the way back
    assert LineConnector().send(line_channel, message) == "request:req-1"
    assert len(line.pushed) == 1


def test_test_connection_names_the_account_and_the_webhook(line_channel, line):
    found = LineConnector().check(line_channel)
    assert "connected as Nimbus Support" in found and "webhook on" in found
    line.token = "another"
    with pytest.raises(PayloadRejected, match="access token was refused"):
        LineConnector().check(line_channel)
