"""Notes and replies through the API: the same services, limits and refusals as the conversation page."""

import pytest

from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Message
from apps.notifications.models import Notification
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory

from .conftest import hours_ago

pytestmark = pytest.mark.django_db


def test_a_note_notifies_the_members_it_mentions(world, api):
    conversation = world["a"]["conversation"]
    response = api(world["agent"]).post(
        f"/api/v1/conversations/{conversation.pk}/notes/", {"text": "@admin-a can you look?"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["direction"] == "note"
    assert Notification.objects.filter(recipient=world["admin"].user, kind="mention").exists()
    empty = api(world["agent"]).post(
        f"/api/v1/conversations/{conversation.pk}/notes/", {"text": "  "}, format="json"
    )
    assert empty.status_code == 400


def test_a_reply_is_queued_on_the_conversations_channel(world, api):
    conversation = world["a"]["conversation"]
    response = api(world["agent"]).post(
        f"/api/v1/conversations/{conversation.pk}/replies/", {"text": "Sorry, it ships today."}, format="json"
    )
    assert response.status_code == 201, response.content
    reply = Message.objects.get(pk=response.json()["id"])
    assert reply.direction == "outbound" and reply.delivery_status == "queued"
    assert reply.author_user == world["agent"].user


def test_a_reply_beyond_the_channels_limits_is_refused_with_the_reasons(world, api):
    whatsapp = ChannelFactory(brand=world["a"]["brand"], kind=ChannelKind.WHATSAPP)
    conversation = ConversationFactory(channel=whatsapp, customer=world["a"]["customer"])
    MessageFactory(conversation=conversation, sent_at=hours_ago(30))
    response = api(world["agent"]).post(
        f"/api/v1/conversations/{conversation.pk}/replies/", {"text": "Hello again"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert [issue["code"] for issue in body["issues"]] == ["window"]
    assert body["detail"] == body["issues"][0]["message"]
    assert not conversation.messages.filter(direction="outbound").exists()


def test_a_reply_on_a_channel_that_cannot_reach_the_customer_is_refused(world, api):
    conversation = world["a"]["conversation"]
    response = api(world["agent"]).post(
        f"/api/v1/conversations/{conversation.pk}/replies/",
        {"text": "Hi", "channel": world["a2"]["channel"].pk},
        format="json",
    )
    assert response.status_code == 400 and "channel" in response.json()


def test_a_marketer_can_neither_note_nor_reply(world, api):
    conversation = world["a"]["conversation"]
    client = api(world["marketer"])
    assert (
        client.post(
            f"/api/v1/conversations/{conversation.pk}/notes/", {"text": "x"}, format="json"
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/conversations/{conversation.pk}/replies/", {"text": "x"}, format="json"
        ).status_code
        == 403
    )
