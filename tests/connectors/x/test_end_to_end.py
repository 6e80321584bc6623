"""X end to end: poll → raw payloads → messages, profiles, threads; an agent's reply goes out as a reply."""

import pytest

from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Conversation, Message
from apps.customers.models import Identity
from apps.ingestion.models import RawPayload
from apps.ingestion.polling import channel_poll
from apps.replies.delivery import message_deliver

pytestmark = pytest.mark.django_db


def test_mentions_become_threaded_conversations_with_profiles(x_channel, fake_x, process_payloads):
    fake_x.add_user("1001", "ana", name="Ana Example", followers=1234, verified=True)
    root = fake_x.post("1001", "@nimbusmobile my bill doubled this month")
    follow_up = fake_x.post("1001", "@nimbusmobile still waiting for an answer", reply_to=root["id"])

    assert channel_poll(channel_id=x_channel.pk) == 2
    assert process_payloads(x_channel) == 2

    conversation = Conversation.objects.get()
    assert conversation.external_thread_id == root["id"]
    assert list(conversation.messages.values_list("external_id", flat=True)) == [root["id"], follow_up["id"]]
    identity = Identity.objects.get(kind=ChannelKind.X, external_id="1001")
    assert (identity.handle, identity.followers, identity.verified) == ("@ana", 1234, True)
    assert identity.profile_url == "https://x.com/ana"
    assert conversation.customer == identity.customer

    # The same posts on the next poll: nothing new is stored.
    x_channel.refresh_from_db()
    assert x_channel.cursor["mentions"] == {"since_id": follow_up["id"]}
    assert channel_poll(channel_id=x_channel.pk) == 0
    x_channel.cursor = {}
    x_channel.save()
    assert channel_poll(channel_id=x_channel.pk) == 0  # even from scratch: the post ids are known
    process_payloads(x_channel)
    assert RawPayload.objects.count() == 2 and Message.objects.count() == 2


def test_an_agents_reply_is_posted_in_reply_to_the_latest_post(
    x_channel, fake_x, process_payloads, agent_reply
):
    fake_x.add_user("1001", "ana", followers=10)
    root = fake_x.post("1001", "@nimbusmobile is 5G down in Lyon?")
    channel_poll(channel_id=x_channel.pk)
    process_payloads(x_channel)
    conversation = Conversation.objects.get()

    reply = agent_reply(x_channel, "Hi Ana, a fix is rolling out now.")

    assert reply.delivery_status == Message.Delivery.SENT and reply.delivery_error == ""
    (request,) = [r for r in fake_x.requests if r.method == "POST"]
    assert request.path == "/2/tweets"
    assert request.headers["authorization"] == "Bearer user-context-token"  # the user-context token
    assert request.json() == {
        "text": "Hi Ana, a fix is rolling out now.",
        "reply": {"in_reply_to_tweet_id": root["id"]},
    }
    assert reply.external_id == fake_x.tweets[0]["id"]

    # Ana answers the brand's reply: it joins the same conversation.
    fake_x.post("1001", "@nimbusmobile thanks, works again", reply_to=reply.external_id)
    channel_poll(channel_id=x_channel.pk)
    process_payloads(x_channel)
    assert Conversation.objects.count() == 1
    assert conversation.messages.filter(direction=Message.Direction.INBOUND).count() == 2


def test_a_reply_without_a_user_token_fails_with_the_reason(x_channel, fake_x, process_payloads, agent_reply):
    fake_x.add_user("1001", "ana")
    fake_x.post("1001", "@nimbusmobile hello")
    channel_poll(channel_id=x_channel.pk)
    process_payloads(x_channel)
    x_channel.credentials = {"bearer_token": fake_x.bearer_token}
    x_channel.save()
    reply = agent_reply(x_channel, "Hello!")
    assert reply.delivery_status == Message.Delivery.FAILED
    assert "user_access_token" in reply.delivery_error
    assert not [r for r in fake_x.requests if r.method == "POST"]


def test_a_reply_x_refuses_fails_and_a_rate_limit_is_retried(
    x_channel, fake_x, process_payloads, agent_reply
):
    from apps.connectors.base import RateLimited

    fake_x.add_user("1001", "ana")
    fake_x.post("1001", "@nimbusmobile hello")
    channel_poll(channel_id=x_channel.pk)
    process_payloads(x_channel)
    reply = agent_reply(x_channel, "Hello!", deliver=False)

    fake_x.rate_limit(reset_in=30)
    with pytest.raises(RateLimited):
        message_deliver(message_id=reply.pk)
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.QUEUED  # the task retries it

    x_channel.credentials = {**x_channel.credentials, "user_access_token": "expired"}
    x_channel.save()
    message_deliver(message_id=reply.pk)
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED and "HTTP 401" in reply.delivery_error
