"""Telegram updates through /hooks/<token>/: the secret-token header, redeliveries, the whole pipeline."""

import pytest

from apps.conversations.models import Conversation, Message
from apps.customers.models import Identity
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process
from tests.connectors.telegram.conftest import SECRET
from tests.fakes.telegram import (
    CUSTOMER,
    DATE,
    message_update,
    my_chat_member_update,
    private_message,
    private_text_update,
)

pytestmark = pytest.mark.django_db


def deliver(post_update, channel, update) -> RawPayload:
    response = post_update(channel, update)
    assert response.status_code == 200, response.content
    return payload_process(payload_id=response.json()["received"])


def test_update_with_the_secret_is_stored_once_by_update_id(telegram_channel, post_update):
    first = post_update(telegram_channel, private_text_update(1))
    again = post_update(telegram_channel, private_text_update(1))  # Telegram redelivers until it gets a 200
    assert first.status_code == again.status_code == 200
    assert again.json() == {"received": first.json()["received"], "duplicate": True}
    payload = RawPayload.objects.get()
    assert payload.external_id == "update:1" and "x-telegram-bot-api-secret-token" in payload.headers


@pytest.mark.parametrize(
    "secret, status, reason",
    [
        (None, 401, "missing X-Telegram-Bot-Api-Secret-Token"),
        ("guess", 403, "does not match"),
        ("", 401, "missing"),
    ],
)
def test_update_without_the_right_secret_is_refused_and_kept(
    telegram_channel, post_update, secret, status, reason
):
    response = post_update(telegram_channel, private_text_update(1), secret=secret)
    assert response.status_code == status and reason in response.json()["error"]
    kept = RawPayload.objects.get()
    assert kept.status == RawPayload.Status.REJECTED and reason in kept.rejection_reason
    assert not Message.objects.exists()


def test_channel_without_a_secret_refuses_every_update(telegram_channel, post_update):
    telegram_channel.credentials = {"bot_token": "x"}
    telegram_channel.save()
    assert post_update(telegram_channel, private_text_update(1), secret=SECRET).status_code == 503


def test_private_messages_become_one_conversation_with_the_customer(telegram_channel, post_update):
    deliver(post_update, telegram_channel, private_text_update(1, "Hello, my order has not arrived"))
    payload = deliver(post_update, telegram_channel, private_text_update(2, "It was order 1234"))

    assert payload.status == RawPayload.Status.PROCESSED
    conversation = Conversation.objects.get()
    assert conversation.external_thread_id == str(CUSTOMER["id"]) and conversation.message_count == 2
    first, second = conversation.messages.order_by("pk")
    assert first.external_id == f"{CUSTOMER['id']}:101" and first.text == "Hello, my order has not arrived"
    assert first.sent_at.timestamp() == DATE and first.metadata["chat_type"] == "private"
    identity = Identity.objects.get()
    assert (identity.kind, identity.external_id) == ("telegram", str(CUSTOMER["id"]))
    assert identity.handle == "@analima" and identity.display_name == "Ana Lima"
    assert identity.profile_url == "https://t.me/analima"
    assert first.author_identity == second.author_identity == identity
    assert conversation.customer == identity.customer


def test_an_edit_updates_the_stored_message_and_keeps_the_earlier_text(telegram_channel, post_update):
    original = private_message(101, "My order 1243 is late")
    deliver(post_update, telegram_channel, message_update(1, original))
    edited = {**original, "text": "My order 1234 is late", "edit_date": DATE + 30}
    payload = deliver(post_update, telegram_channel, message_update(2, edited, field="edited_message"))

    assert payload.status == RawPayload.Status.APPLIED and payload.outcome == {"stored": 0, "applied": 1}
    message = Message.objects.get()
    assert message.external_id == f"{CUSTOMER['id']}:101" and message.text == "My order 1234 is late"
    assert message.metadata["edits"][0]["text"] == "My order 1243 is late"
    assert message.edited_at.timestamp() == DATE + 30 and message.conversation.message_count == 1


def test_updates_without_a_message_are_ignored_with_a_reason_naming_them(telegram_channel, post_update):
    payload = deliver(post_update, telegram_channel, my_chat_member_update(7))
    assert payload.status == RawPayload.Status.IGNORED and not Message.objects.exists()
    assert payload.event_type == "my_chat_member" and "membership" in payload.ignored_reason


def test_malformed_update_is_rejected_with_a_reason(telegram_channel, post_update):
    payload = deliver(post_update, telegram_channel, b'{"update_id": 3, "message": ')
    assert payload.status == RawPayload.Status.REJECTED and "malformed JSON" in payload.rejection_reason
    payload = deliver(post_update, telegram_channel, {"message": private_message(1)})
    assert payload.status == RawPayload.Status.REJECTED and "update_id" in payload.rejection_reason
