"""Instagram: direct messages and comments on the account's media, in and out."""

import pytest

from apps.accounts.models import Role
from apps.conversations.models import Conversation, Message
from apps.customers.models import Identity
from apps.replies.delivery import message_deliver
from apps.replies.services import reply_create
from tests.fakes.meta import (
    IG_ACCOUNT_ID,
    IGSID,
    TIME_S,
    instagram_comment_change,
    instagram_dm_event,
    instagram_webhook,
)

pytestmark = pytest.mark.django_db
MEDIA_ID = "17895695668004550"


@pytest.fixture
def agent(org_a, make_membership):
    return make_membership(org_a, role=Role.COMMUNITY_MANAGER).user


def reply(conversation, agent, text, capture) -> Message:
    with capture(execute=False):
        return reply_create(conversation=conversation, author=agent, text=text)


def test_a_direct_message_and_a_comment_by_the_same_person_are_one_customer(instagram_channel, ingest):
    ingest(
        instagram_channel, instagram_webhook(messaging=[instagram_dm_event("aWdfZAG1faXRlbTox", "Hi there")])
    )
    ingest(
        instagram_channel,
        instagram_webhook(changes=[instagram_comment_change("17865799348089039", "Price?")]),
    )

    dm = Message.objects.get(external_id="aWdfZAG1faXRlbTox")
    comment = Message.objects.get(external_id="17865799348089039")
    assert dm.conversation.external_thread_id == IGSID
    assert comment.conversation.external_thread_id == f"media:{MEDIA_ID}"
    assert comment.sent_at.timestamp() == TIME_S
    assert comment.metadata == {
        "source": "instagram_comment",
        "comment_id": "17865799348089039",
        "media_id": MEDIA_ID,
        "media_product_type": "FEED",
        "live": False,
    }
    identity = Identity.objects.get()
    assert identity.external_id == IGSID and identity.handle == "@ana.lima"
    assert identity.profile_url == "https://www.instagram.com/ana.lima/"
    assert dm.conversation.customer == comment.conversation.customer == identity.customer


def test_echoes_unsent_messages_and_the_accounts_own_comments_are_ignored(instagram_channel, ingest):
    echo = {
        "sender": {"id": IG_ACCOUNT_ID},
        "recipient": {"id": IGSID},
        "timestamp": TIME_S * 1000,
        "message": {"mid": "aWdfZAG1echo", "text": "Thanks!", "is_echo": True},
    }
    unsent = instagram_dm_event("aWdfZAG1gone", "oops", is_deleted=True)
    own = instagram_comment_change(
        "17800000000000001", "Thanks!", author={"id": IG_ACCOUNT_ID, "username": "nimbus"}
    )
    payload = ingest(instagram_channel, instagram_webhook(messaging=[echo, unsent], changes=[own]))
    assert payload.status == "ignored" and not Message.objects.exists()
    assert [event["event"] for event in payload.outcome["ignored"]] == [
        "message_echo",
        "comments",
        "message_unsend",
    ]


def test_business_login_notifications_with_field_and_value_on_the_entry(instagram_channel, ingest):
    payload = {
        "object": "instagram",
        "entry": [
            {
                "id": IG_ACCOUNT_ID,
                "time": TIME_S,
                **instagram_comment_change("17865799348089040", "Nice!", field="live_comments"),
            }
        ],
    }
    ingest(instagram_channel, payload)
    message = Message.objects.get()
    assert message.text == "Nice!" and message.metadata["live"] is True


def test_dm_reply_goes_through_the_send_api(
    instagram_channel, ingest, graph, agent, django_capture_on_commit_callbacks
):
    graph.serve(instagram_channel)
    ingest(instagram_channel, instagram_webhook(messaging=[instagram_dm_event("aWdfZAG1faXRlbTox", "Hi")]))
    message = reply(Conversation.objects.get(), agent, "Hi Ana!", django_capture_on_commit_callbacks)
    message_deliver(message_id=message.pk)
    request = graph.requests[-1]
    assert request.path == "/v21.0/me/messages"
    assert request.json() == {"recipient": {"id": IGSID}, "message": {"text": "Hi Ana!"}}
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.SENT and message.external_id == "m_sent1"


def test_comment_reply_answers_the_top_level_comment(
    instagram_channel, ingest, graph, agent, django_capture_on_commit_callbacks
):
    graph.serve(instagram_channel)
    ingest(
        instagram_channel,
        instagram_webhook(
            changes=[
                instagram_comment_change("17800000000000010", "In stock?"),
                instagram_comment_change(
                    "17800000000000011",
                    "Same question",
                    author={"id": "999", "username": "ravi"},
                    parent_id="17800000000000010",
                ),
            ]
        ),
    )
    conversation = Conversation.objects.get()
    assert conversation.message_count == 2
    message = reply(conversation, agent, "Back on Monday!", django_capture_on_commit_callbacks)
    message_deliver(message_id=message.pk)
    request = graph.requests[-1]
    assert request.path == "/v21.0/17800000000000010/replies" and request.json() == {
        "message": "Back on Monday!"
    }
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.SENT


def test_a_dm_over_1000_bytes_fails_before_calling_meta(
    instagram_channel, ingest, graph, agent, django_capture_on_commit_callbacks
):
    graph.serve(instagram_channel)
    ingest(instagram_channel, instagram_webhook(messaging=[instagram_dm_event("aWdfZAG1faXRlbTox", "Hi")]))
    message = reply(Conversation.objects.get(), agent, "é" * 501, django_capture_on_commit_callbacks)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.FAILED and "1000 bytes" in message.delivery_error
    assert graph.requests == []


def test_outside_the_window_the_reason_says_so(
    instagram_channel, ingest, graph, agent, django_capture_on_commit_callbacks
):
    graph.serve(instagram_channel)
    ingest(instagram_channel, instagram_webhook(messaging=[instagram_dm_event("aWdfZAG1faXRlbTox", "Hi")]))
    message = reply(Conversation.objects.get(), agent, "Late answer", django_capture_on_commit_callbacks)
    graph.fail_next(400, 10, "This message is sent outside of allowed window.", subcode=2534022)
    message_deliver(message_id=message.pk)
    message.refresh_from_db()
    assert message.delivery_status == Message.Delivery.FAILED
    assert "outside the allowed messaging window" in message.delivery_error
