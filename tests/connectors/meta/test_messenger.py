"""Facebook Pages: Messenger conversations and comments on the Page's posts, in and out."""

import json
from datetime import UTC, datetime

import pytest

from apps.accounts.models import Role
from apps.connectors.base import RateLimited, TransientError
from apps.connectors.registry import connector_for
from apps.conversations.models import Conversation, Message
from apps.customers.models import Identity
from apps.ingestion.models import RawPayload
from apps.replies.delivery import message_deliver
from apps.replies.services import reply_create
from tests.fakes.meta import (
    PAGE_ID,
    PSID,
    TIME_MS,
    feed_comment_change,
    messenger_echo_event,
    messenger_text_event,
    page_entry,
    page_webhook,
)

pytestmark = pytest.mark.django_db
POST_ID = f"{PAGE_ID}_555000111"
USAGE_HEADER = json.dumps(
    {PAGE_ID: [{"type": "messenger", "call_count": 100, "estimated_time_to_regain_access": 3}]}
)


@pytest.fixture
def agent(org_a, make_membership):
    return make_membership(org_a, role=Role.COMMUNITY_MANAGER).user


def reply(conversation, agent, text, capture) -> Message:
    with capture(execute=False):
        return reply_create(conversation=conversation, author=agent, text=text)


def test_a_message_opens_a_conversation_with_the_page_scoped_customer(messenger_channel, ingest):
    payload = ingest(
        messenger_channel, page_webhook(page_entry(messaging=[messenger_text_event("m_AAA", "Hi!")]))
    )

    assert payload.status == RawPayload.Status.PROCESSED
    message = Message.objects.get()
    assert (message.external_id, message.text, message.direction) == ("m_AAA", "Hi!", "inbound")
    assert message.sent_at == datetime.fromtimestamp(TIME_MS / 1000, UTC)
    assert message.conversation.external_thread_id == PSID
    identity = Identity.objects.get()
    assert (identity.kind, identity.external_id) == ("messenger", PSID)
    assert message.conversation.customer == identity.customer


def test_a_batched_delivery_stores_every_message_of_every_entry(messenger_channel, ingest):
    read_receipt = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": TIME_MS,
        "read": {"watermark": 1},
    }
    payload = page_webhook(
        page_entry(messaging=[messenger_text_event("m_1", "one"), read_receipt]),
        page_entry(
            messaging=[
                messenger_text_event("m_2", "two", timestamp=TIME_MS + 1),
                messenger_text_event("m_3", "three", psid="7000000000000001", timestamp=TIME_MS + 2),
            ],
            changes=[feed_comment_change(f"555000111_{1}", "Love it")],
        ),
    )
    ingest(messenger_channel, payload)

    assert sorted(Message.objects.values_list("external_id", flat=True)) == [
        "555000111_1",
        "m_1",
        "m_2",
        "m_3",
    ]
    assert Conversation.objects.count() == 3  # PSID, another PSID, the post
    assert Conversation.objects.get(external_thread_id=PSID).message_count == 2


def test_attachments_replies_and_quick_replies_are_kept(messenger_channel):
    event = messenger_text_event("m_9", "", reply_to={"mid": "m_1"}, quick_reply={"payload": "TRACK_ORDER"})
    del event["message"]["text"]
    event["message"]["attachments"] = [
        {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/photo.jpg"}},
        {
            "type": "image",
            "payload": {"url": "https://scontent.xx.fbcdn.net/v/sticker.png", "sticker_id": 369239263222822},
        },
    ]
    (inbound,) = connector_for("messenger").parse(
        messenger_channel, json.dumps(page_webhook(page_entry(messaging=[event]))).encode(), {}
    )
    assert inbound.text == "[image] [sticker]" and inbound.in_reply_to == "m_1"
    assert inbound.metadata["attachments"][0] == {
        "type": "image",
        "url": "https://scontent.xx.fbcdn.net/v/photo.jpg",
    }
    assert inbound.metadata["quick_reply"] == "TRACK_ORDER"


def test_echoes_of_the_pages_other_tools_are_outbound_and_cxms_own_are_dropped(messenger_channel, ingest):
    messenger_channel.credentials = {**messenger_channel.credentials, "app_id": "1517776481860111"}
    messenger_channel.save()
    ingest(
        messenger_channel,
        page_webhook(
            page_entry(
                messaging=[
                    messenger_text_event("m_1", "Is it in stock?"),
                    messenger_echo_event("m_2", "Yes! (from the Page inbox)"),
                    messenger_echo_event("m_3", "sent by CXM", app_id=1517776481860111),
                    messenger_echo_event(
                        "m_4", "sent by CXM too", app_id=1517776481860111, metadata="cxm:42"
                    ),
                    messenger_echo_event("m_5", "marked by CXM", metadata="cxm:43"),
                ]
            )
        ),
    )
    echo = Message.objects.get(external_id="m_2")
    assert echo.direction == Message.Direction.OUTBOUND and echo.delivery_status == Message.Delivery.DELIVERED
    assert echo.conversation == Message.objects.get(external_id="m_1").conversation
    assert Message.objects.count() == 2


def test_an_edit_updates_the_message_and_a_postback_is_a_new_one(messenger_channel, ingest):
    edit = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": TIME_MS + 5,
        "message_edit": {"mid": "m_1", "text": "Hi, order 1234 please", "num_edit": 1},
    }
    postback = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": TIME_MS + 9,
        "postback": {"title": "Talk to a person", "payload": "HUMAN", "mid": "m_pb"},
    }
    ingest(
        messenger_channel,
        page_webhook(page_entry(messaging=[messenger_text_event("m_1", "Hi, order 1243"), edit, postback])),
    )
    edited = Message.objects.get(external_id="m_1")
    assert edited.text == "Hi, order 1234 please" and edited.metadata["edits"][0]["text"] == "Hi, order 1243"
    assert Message.objects.get(external_id="m_pb").metadata["postback"] == "HUMAN"
    assert Conversation.objects.get().message_count == 2


def test_comments_on_a_post_are_one_conversation_and_the_pages_own_are_ignored(messenger_channel, ingest):
    ingest(
        messenger_channel,
        page_webhook(
            page_entry(
                changes=[
                    feed_comment_change("555000111_1", "Does it come in blue?"),
                    feed_comment_change(
                        "555000111_2",
                        "Me too!",
                        author={"id": "7309999999999", "name": "Ravi Patel"},
                        parent_id="555000111_1",
                    ),
                    feed_comment_change(
                        "555000111_3", "Yes it does", author={"id": PAGE_ID, "name": "Nimbus"}
                    ),
                    feed_comment_change("555000111_1", "Does it come in blue??", verb="edited"),
                ]
            )
        ),
    )
    conversation = Conversation.objects.get()
    assert conversation.external_thread_id == f"post:{POST_ID}" and conversation.message_count == 2
    first, second = conversation.messages.order_by("pk")
    assert (
        first.text == "Does it come in blue??"
        and first.metadata["edits"][0]["text"] == "Does it come in blue?"
    )
    assert {key: first.metadata[key] for key in ("source", "post_id", "comment_id", "parent_id")} == {
        "source": "facebook_comment",
        "post_id": POST_ID,
        "comment_id": "555000111_1",
        "parent_id": POST_ID,
    }
    assert second.metadata["parent_id"] == "555000111_1"
    assert (
        first.author_identity.display_name == "Jane Doe"
        and second.author_identity.display_name == "Ravi Patel"
    )


def test_reply_goes_out_through_the_send_api(
    messenger_channel, ingest, graph, agent, django_capture_on_commit_callbacks
):
    graph.serve(messenger_channel)
    ingest(messenger_channel, page_webhook(page_entry(messaging=[messenger_text_event("m_1", "Hi")])))
    message = reply(
        Conversation.objects.get(), agent, "Hello! How can we help?", django_capture_on_commit_callbacks
    )
    message_deliver(message_id=message.pk)

    request = graph.requests[-1]
    assert request.path == "/v21.0/me/messages"
    assert request.headers["authorization"] == "Bearer EAAGm0PX4ZCpsBAPageToken"
    assert len(request.query["appsecret_proof"][0]) == 64
    assert request.json() == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hello! How can we help?", "metadata": f"cxm:{message.pk}"},
    }
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.SENT and message.external_id == "m_sent1"


def test_reply_in_a_comment_thread_answers_the_top_level_comment(
    messenger_channel, ingest, graph, agent, django_capture_on_commit_callbacks
):
    graph.serve(messenger_channel)
    ingest(
        messenger_channel,
        page_webhook(
            page_entry(
                changes=[
                    feed_comment_change("555000111_1", "Blue?", created_time=1764072000),
                    feed_comment_change(
                        "555000111_2", "+1", parent_id="555000111_1", created_time=1764072060
                    ),
                ]
            )
        ),
    )
    message = reply(
        Conversation.objects.get(), agent, "Blue ships in May!", django_capture_on_commit_callbacks
    )
    message_deliver(message_id=message.pk)
    request = graph.requests[-1]
    assert request.path == "/v21.0/555000111_1/comments" and request.json() == {
        "message": "Blue ships in May!"
    }
    message.refresh_from_db()
    assert message.external_id == "555000111_1_reply1"


@pytest.mark.parametrize(
    "status, code, headers, retry_after",
    [
        (429, 613, {"Retry-After": "30"}, 30),
        (
            400,
            32,
            {"X-Business-Use-Case-Usage": USAGE_HEADER},
            180,
        ),
        (400, 4, {}, None),
    ],
)
def test_rate_limits_leave_the_message_queued_with_metas_delay(
    messenger_channel,
    ingest,
    graph,
    agent,
    django_capture_on_commit_callbacks,
    status,
    code,
    headers,
    retry_after,
):
    graph.serve(messenger_channel)
    ingest(messenger_channel, page_webhook(page_entry(messaging=[messenger_text_event("m_1", "Hi")])))
    message = reply(Conversation.objects.get(), agent, "Hello", django_capture_on_commit_callbacks)
    graph.fail_next(status, code, "(#613) Calls to this api have exceeded the rate limit.", headers=headers)
    with pytest.raises(RateLimited) as raised:
        message_deliver(message_id=message.pk)
    assert raised.value.retry_after == retry_after
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.QUEUED


@pytest.mark.parametrize(
    "status, code, subcode, text, reason",
    [
        (
            400,
            190,
            463,
            "Error validating access token: Session has expired",
            "access token expired or invalid",
        ),
        (
            400,
            10,
            2018278,
            "(#10) This message is sent outside of allowed window.",
            "outside the allowed messaging window",
        ),
        (400, 100, 2018001, "(#100) No matching user found", "No matching user found"),
    ],
)
def test_refusals_fail_the_message_with_the_reason(
    messenger_channel,
    ingest,
    graph,
    agent,
    django_capture_on_commit_callbacks,
    status,
    code,
    subcode,
    text,
    reason,
):
    graph.serve(messenger_channel)
    ingest(messenger_channel, page_webhook(page_entry(messaging=[messenger_text_event("m_1", "Hi")])))
    message = reply(Conversation.objects.get(), agent, "Hello", django_capture_on_commit_callbacks)
    graph.fail_next(status, code, text, subcode=subcode)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.FAILED and reason in message.delivery_error
    assert f"code {code}, subcode {subcode}" in message.delivery_error


def test_an_expired_token_fails_the_message_even_without_a_scripted_error(
    messenger_channel, ingest, graph, agent, django_capture_on_commit_callbacks
):
    messenger_channel.credentials = {**messenger_channel.credentials, "access_token": "expired"}
    graph.serve(messenger_channel)
    ingest(messenger_channel, page_webhook(page_entry(messaging=[messenger_text_event("m_1", "Hi")])))
    message = reply(Conversation.objects.get(), agent, "Hello", django_capture_on_commit_callbacks)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.FAILED
    assert message.delivery_error.startswith("access token expired or invalid")


def test_server_errors_are_transient(
    messenger_channel, ingest, graph, agent, django_capture_on_commit_callbacks
):
    graph.serve(messenger_channel)
    ingest(messenger_channel, page_webhook(page_entry(messaging=[messenger_text_event("m_1", "Hi")])))
    message = reply(Conversation.objects.get(), agent, "Hello", django_capture_on_commit_callbacks)
    graph.fail_next(
        500, 2, "An unexpected error has occurred. Please retry your request later.", is_transient=True
    )
    with pytest.raises(TransientError):
        message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.QUEUED
