"""Reddit end to end: poll → raw payloads → threaded conversations and profiles; replies as comments."""

import pytest

from apps.connectors.base import RateLimited
from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Conversation, Message
from apps.customers.models import Identity
from apps.ingestion.models import RawPayload
from apps.ingestion.polling import channel_poll
from apps.replies.delivery import message_deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(reddit_channel, fake_reddit):
    reddit_channel.settings = {**reddit_channel.settings, "subreddits": ["NimbusMobile"]}
    reddit_channel.save()
    post = fake_reddit.submit("NimbusMobile", "ana_travels", "Nimbus roaming charges?", "40 € for two days")
    comment = fake_reddit.comment(post["data"]["name"], "bo_commutes", "Same here, no warning SMS")
    return post, comment


def test_a_post_and_its_comments_become_one_conversation(
    reddit_channel, fake_reddit, thread, process_payloads
):
    post, comment = thread
    assert channel_poll(channel_id=reddit_channel.pk) == 2  # the post is found by search and /new: once
    assert process_payloads(reddit_channel) == 2

    conversation = Conversation.objects.get()
    assert conversation.external_thread_id == post["data"]["name"]
    assert conversation.subject == "Nimbus roaming charges?"
    assert list(conversation.messages.values_list("external_id", flat=True)) == [
        post["data"]["name"],
        comment["data"]["name"],
    ]
    identity = Identity.objects.get(kind=ChannelKind.REDDIT, handle="u/ana_travels")
    assert identity.external_id == "u/ana_travels"  # by username: inbox messages give no t2_ id
    assert identity.profile_url == "https://www.reddit.com/user/ana_travels/"
    assert conversation.messages.get(external_id=post["data"]["name"]).author_identity == identity

    # A second poll over the same listings stores nothing new, even from an empty cursor.
    assert channel_poll(channel_id=reddit_channel.pk) == 0
    reddit_channel.refresh_from_db()
    reddit_channel.cursor = {}
    reddit_channel.save()
    assert channel_poll(channel_id=reddit_channel.pk) == 0
    assert RawPayload.objects.count() == 2 and Message.objects.count() == 2


def test_an_agents_reply_is_a_comment_and_the_answer_to_it_comes_back_by_the_inbox(
    reddit_channel, fake_reddit, thread, process_payloads, agent_reply
):
    post, comment = thread
    channel_poll(channel_id=reddit_channel.pk)
    process_payloads(reddit_channel)
    conversation = Conversation.objects.get()

    reply = agent_reply(reddit_channel, "Hi! DM us your number, we'll refund it.")

    assert reply.delivery_status == Message.Delivery.SENT
    (request,) = fake_reddit.api_requests("/api/comment")
    assert request.method == "POST"
    assert request.form() == {
        "api_type": ["json"],
        "thing_id": [comment["data"]["name"]],  # the latest inbound message of the conversation
        "text": ["Hi! DM us your number, we'll refund it."],
    }
    assert "(by /u/NimbusMobileCare)" in request.headers["user-agent"]
    assert reply.external_id == fake_reddit.things[-1]["data"]["name"] and reply.external_id.startswith("t1_")

    # Bo answers the brand's comment: it arrives by the inbox (and /comments) and joins the conversation.
    answer = fake_reddit.comment(reply.external_id, "bo_commutes", "Done, thanks!")
    assert channel_poll(channel_id=reddit_channel.pk) == 2  # the answer, and the brand's own comment
    process_payloads(reddit_channel)
    assert Conversation.objects.count() == 1
    assert (
        conversation.messages.get(external_id=answer["data"]["name"]).direction == Message.Direction.INBOUND
    )
    assert conversation.messages.filter(direction=Message.Direction.OUTBOUND).count() == 1  # not echoed twice


def test_reddits_refusals_fail_the_reply_and_its_rate_limit_retries_it(
    reddit_channel, fake_reddit, thread, process_payloads, agent_reply
):
    channel_poll(channel_id=reddit_channel.pk)
    process_payloads(reddit_channel)
    reply = agent_reply(reddit_channel, "Hello", deliver=False)

    fake_reddit.comment_errors.append(
        ["RATELIMIT", "you are doing that too much. try again in 9 minutes.", "ratelimit"]
    )
    with pytest.raises(RateLimited) as caught:
        message_deliver(message_id=reply.pk)
    assert caught.value.retry_after == 540  # "try again in 9 minutes"
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.QUEUED

    fake_reddit.comment_errors.append(["THREAD_LOCKED", "Comments are locked.", "parent"])
    message_deliver(message_id=reply.pk)
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED
    assert reply.delivery_error == "Reddit refused the comment: THREAD_LOCKED: Comments are locked."
