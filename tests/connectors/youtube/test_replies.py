"""Replies on YouTube (comments.insert under the thread's top-level comment): the new comment's id as the
delivery status, the echo of the brand's comment not stored twice, errors with their reasons."""

import pytest

from apps.conversations.models import Conversation, Message
from apps.ingestion.polling import channel_poll
from tests.fakes.youtube import (
    ACCESS_TOKEN,
    API_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    VIDEO,
    search_result,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def oauth_channel(youtube_channel, youtube):
    youtube_channel.credentials = {
        "api_key": API_KEY,
        "access_token": ACCESS_TOKEN,
        "refresh_token": REFRESH_TOKEN,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    youtube_channel.save()
    return youtube_channel


def test_a_reply_is_posted_under_the_thread_and_comes_back_once(
    oauth_channel, youtube, process_payloads, agent_reply
):
    thread = youtube.comment(VIDEO, "Ana", "Where can I buy the case?")
    reply_of_ana = youtube.comment(VIDEO, "Ana", "In Lisbon", thread=thread)
    channel_poll(channel_id=oauth_channel.pk)
    process_payloads(oauth_channel)

    reply = agent_reply(oauth_channel, "In every Nimbus store, Ana!")

    assert reply.delivery_status == Message.Delivery.SENT
    (insert,) = [r for r in youtube.requests if r.method == "POST" and r.path.endswith("/comments")]
    assert insert.query["part"] == ["snippet"] and insert.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert insert.json() == {
        "snippet": {"parentId": thread["id"], "textOriginal": "In every Nimbus store, Ana!"}
    }
    assert reply.external_id == thread["replies"]["comments"][0]["id"] != reply_of_ana["id"]

    # The next poll reads the brand's comment back: the same message, not a second one.
    oauth_channel.refresh_from_db()
    channel_poll(channel_id=oauth_channel.pk)
    process_payloads(oauth_channel)
    assert Message.objects.filter(external_id=reply.external_id).count() == 1
    assert Conversation.objects.get().messages.count() == 3


def test_a_reply_with_an_expired_token_refreshes_it(oauth_channel, youtube, process_payloads, agent_reply):
    youtube.comment(VIDEO, "Ana", "hi")
    channel_poll(channel_id=oauth_channel.pk)
    process_payloads(oauth_channel)
    youtube.access_token = "ya29.rotated"  # the stored token expired
    reply = agent_reply(oauth_channel, "Hello")
    assert reply.delivery_status == Message.Delivery.SENT and youtube.refreshes == 1


def test_a_reply_without_oauth_fails_with_the_reason(youtube_channel, youtube, process_payloads, agent_reply):
    youtube.comment(VIDEO, "Ana", "hi")
    channel_poll(channel_id=youtube_channel.pk)
    process_payloads(youtube_channel)
    reply = agent_reply(youtube_channel, "Hello")
    assert reply.delivery_status == Message.Delivery.FAILED and "OAuth access token" in reply.delivery_error


def test_a_reply_to_a_deleted_comment_fails_with_youtubes_reason(
    oauth_channel, youtube, process_payloads, agent_reply
):
    youtube.comment(VIDEO, "Ana", "hi")
    channel_poll(channel_id=oauth_channel.pk)
    process_payloads(oauth_channel)
    youtube.threads.clear()
    reply = agent_reply(oauth_channel, "Hello")
    assert (
        reply.delivery_status == Message.Delivery.FAILED and "parentCommentNotFound" in reply.delivery_error
    )


def test_a_mention_found_by_search_cannot_be_answered_here(
    oauth_channel, youtube, process_payloads, agent_reply
):
    oauth_channel.settings = {**oauth_channel.settings, "search_mentions": True, "queries": ["nimbus"]}
    oauth_channel.save()
    youtube.search_results = [search_result("dQw4w9WgXcQ", "Nimbus X review")]
    channel_poll(channel_id=oauth_channel.pk)
    process_payloads(oauth_channel)
    reply = agent_reply(oauth_channel, "Thanks for the review")
    assert reply.delivery_status == Message.Delivery.FAILED and "mention" in reply.delivery_error
