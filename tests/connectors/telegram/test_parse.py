"""Each documented Update shape → the normalised message (or nothing)."""

import json

import pytest

from apps.connectors.base import PayloadRejected
from apps.connectors.registry import connector_for
from tests.fakes.telegram import (
    CUSTOMER,
    DATE,
    group_message,
    message_update,
    my_chat_member_update,
    photo_sizes,
    private_message,
)

pytestmark = pytest.mark.django_db


def parse(channel, update):
    return connector_for("telegram").parse(channel, json.dumps(update).encode(), {})


def test_photo_with_caption_keeps_the_largest_size_as_media(telegram_channel):
    (inbound,) = parse(
        telegram_channel,
        message_update(1, private_message(9, None, photo=photo_sizes(), caption="Broken on arrival")),
    )
    assert inbound.text == "Broken on arrival"
    assert inbound.metadata["media"] == [
        {
            "type": "photo",
            "file_id": "AgACAgQAAxkBAAIBlarge",
            "file_unique_id": "AQADlarge",
            "width": 1280,
            "height": 960,
        }
    ]


@pytest.mark.parametrize(
    "extra, text",
    [
        ({"photo": photo_sizes()}, "[photo]"),
        (
            {
                "document": {
                    "file_name": "invoice.pdf",
                    "mime_type": "application/pdf",
                    "file_id": "BQACAgQAAxkBAAIB",
                    "file_unique_id": "AgADdoc",
                    "file_size": 52000,
                }
            },
            "[document: invoice.pdf]",
        ),
        ({"voice": {"file_id": "AwACAgQ", "file_unique_id": "AgADv", "duration": 4}}, "[voice message]"),
        (
            {"sticker": {"file_id": "CAACAgI", "file_unique_id": "AgADs", "emoji": "😡", "type": "regular"}},
            "[sticker: 😡]",
        ),
        ({"location": {"latitude": 38.7223, "longitude": -9.1393}}, "[location: 38.7223, -9.1393]"),
    ],
)
def test_media_without_caption_gets_a_placeholder(telegram_channel, extra, text):
    (inbound,) = parse(telegram_channel, message_update(1, private_message(9, None, **extra)))
    assert inbound.text == text


def test_group_message_threads_by_the_group_and_replies_point_at_their_parent(telegram_channel):
    message = group_message(77, "Same problem here", chat_id=-1001234567890)
    message["reply_to_message"] = group_message(70, "Is the app down?")
    (inbound,) = parse(telegram_channel, message_update(5, message))
    assert inbound.external_id == "-1001234567890:77" and inbound.thread_key == "-1001234567890"
    assert inbound.in_reply_to == "-1001234567890:70"
    assert inbound.metadata["chat_title"] == "Nimbus Owners Club" and inbound.author.handle == "@analima"


def test_channel_post_is_authored_by_the_channel(telegram_channel):
    post = {
        "message_id": 12,
        "sender_chat": {
            "id": -1009876543210,
            "title": "Nimbus News",
            "username": "nimbusnews",
            "type": "channel",
        },
        "chat": {"id": -1009876543210, "title": "Nimbus News", "username": "nimbusnews", "type": "channel"},
        "date": DATE,
        "text": "Maintenance tonight",
    }
    (inbound,) = parse(telegram_channel, message_update(6, post, field="channel_post"))
    assert inbound.author.external_id == "-1009876543210" and inbound.author.display_name == "Nimbus News"
    assert inbound.author.handle == "@nimbusnews"


def test_sharing_ones_own_contact_gives_a_verified_phone(telegram_channel):
    own = {"phone_number": "351912345678", "first_name": "Ana", "user_id": CUSTOMER["id"]}
    (inbound,) = parse(telegram_channel, message_update(1, private_message(9, None, contact=own)))
    assert inbound.author.phone == "351912345678" and inbound.author.phone_verified is True
    assert inbound.text == "[contact: Ana 351912345678]"

    someone_else = {"phone_number": "+44 20 7946 0000", "first_name": "Bob", "user_id": 42}
    (inbound,) = parse(telegram_channel, message_update(2, private_message(10, None, contact=someone_else)))
    assert inbound.author.phone == "" and inbound.author.phone_verified is False


def test_service_messages_and_other_updates_carry_no_message(telegram_channel):
    joined = group_message(80, "x")
    del joined["text"]
    joined["new_chat_members"] = [CUSTOMER]
    assert parse(telegram_channel, message_update(1, joined)) == []
    assert parse(telegram_channel, my_chat_member_update(2)) == []
    assert (
        parse(
            telegram_channel, {"update_id": 3, "callback_query": {"id": "1", "from": CUSTOMER, "data": "x"}}
        )
        == []
    )


@pytest.mark.parametrize(
    "update, reason",
    [
        ([1, 2], "update_id"),
        ({"update_id": "1", "message": {}}, "update_id"),
        ({"update_id": 1, "message": {"text": "no chat"}}, "chat.id"),
        ({"update_id": 1, "message": {"message_id": 1, "chat": {"id": 1}, "text": "hi"}}, "sender_chat"),
    ],
)
def test_malformed_updates_are_rejected(telegram_channel, update, reason):
    with pytest.raises(PayloadRejected, match=reason):
        parse(telegram_channel, update)
