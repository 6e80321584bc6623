"""LINE end to end on the real entry points: a signed POST to the running server's /hooks/<token>/, the real
worker storing it (profile and content read from the fake Messaging API), an agent's reply delivered by the
worker through the reply token, its delivery status coming back as sent with LINE's message id."""

import json
import os
import time

import httpx
import pytest

from apps.conversations.models import Conversation, Message
from apps.replies.services import reply_create
from tests.conftest import spawn_worker, stop_worker
from tests.factories import membership_create
from tests.fakes.line import PNG, event, sign, text_event, webhook

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return result


def test_a_signed_delivery_is_stored_by_the_worker_and_the_agents_reply_is_sent(
    asgi_server, line_channel, line
):
    line.contents["9301"] = (200, PNG, "image/png")
    url = f"{asgi_server.url}/hooks/{line_channel.webhook_token}/"
    agent = membership_create(line_channel.organization).user

    def deliver(payload: dict) -> None:
        body = json.dumps(payload).encode()
        assert (
            httpx.post(url, content=body, headers={"X-Line-Signature": sign(body, "wrong")}).status_code
            == 403
        )
        answer = httpx.post(url, content=body, headers={"X-Line-Signature": sign(body)})
        assert answer.status_code == 200, answer.text

    def sent(reply) -> Message:
        return _wait_for(
            lambda: Message.objects.filter(pk=reply.pk, delivery_status=Message.Delivery.SENT).first(),
            120,
            "the reply to be sent",
        )

    worker = spawn_worker(f"line-{os.getpid()}@localhost")
    try:
        # A first exchange, long ago: its reply is pushed (and the worker and this process warmed up, so
        # that the exchange below stays within its reply token's minute on a busy machine).
        deliver(webhook(text_event("9299", "Hello?", at_ms=0)))
        _wait_for(lambda: Message.objects.filter(channel=line_channel).exists(), 120, "the first message")
        conversation = Conversation.objects.get(channel=line_channel)
        sent(reply_create(conversation=conversation, author=agent, text="Hello!"))
        assert len(line.pushed) == 1

        now_ms = int(time.time() * 1000)
        deliver(
            webhook(
                text_event("9300", "My parcel arrived broken", at_ms=now_ms),
                event(
                    "message",
                    message={"id": "9301", "type": "image", "contentProvider": {"type": "line"}},
                    reply_token="reply-9301",
                    at_ms=now_ms + 1,  # the latest message: the one a reply answers
                ),
            )
        )
        _wait_for(lambda: Message.objects.filter(channel=line_channel).count() == 4, 60, "the messages")
        image = Message.objects.get(external_id="9301")
        assert image.conversation == conversation
        assert image.metadata["media"][0]["content_type"] == "image/png"
        assert conversation.customer.identities.get().display_name == "Ana Lima"

        reply = sent(
            reply_create(conversation=conversation, author=agent, text="Sorry! A new one ships today.")
        )
        assert reply.external_id == "461230966842064898"
        # The token of the customer's latest message, within its minute.
        assert line.replied[0]["replyToken"] == "reply-9301" and len(line.pushed) == 1
    finally:
        stop_worker(worker)
