"""Bluesky end to end: poll → raw payloads → threaded conversations and profiles; replies as posts."""

import pytest

from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Conversation, Message
from apps.customers.models import Identity
from apps.ingestion.models import RawPayload
from apps.ingestion.polling import channel_poll

pytestmark = pytest.mark.django_db


def test_a_mention_and_its_reply_become_one_conversation(bluesky_channel, fake_bluesky, process_payloads):
    ana = fake_bluesky.add_actor("ana.bsky.social", display_name="Ana", followers=777)
    root = fake_bluesky.post(ana, "@nimbus.bsky.social no signal since this morning")
    reply = fake_bluesky.post(ana, "@nimbus.bsky.social still nothing", reply_to=root)

    assert channel_poll(channel_id=bluesky_channel.pk) == 2
    assert process_payloads(bluesky_channel) == 2  # the reply first: it still threads under its root

    conversation = Conversation.objects.get()
    assert conversation.external_thread_id == root["uri"]
    assert list(conversation.messages.values_list("external_id", flat=True)) == [root["uri"], reply["uri"]]
    identity = Identity.objects.get(kind=ChannelKind.BLUESKY, external_id=ana["did"])
    assert (identity.handle, identity.followers, identity.display_name) == ("@ana.bsky.social", 777, "Ana")
    assert identity.profile_url == "https://bsky.app/profile/ana.bsky.social"
    assert conversation.customer == identity.customer

    assert channel_poll(channel_id=bluesky_channel.pk) == 0
    bluesky_channel.refresh_from_db()
    bluesky_channel.cursor = {}
    bluesky_channel.save()
    assert channel_poll(channel_id=bluesky_channel.pk) == 0  # from scratch: the same at:// uris
    assert RawPayload.objects.count() == 2 and Message.objects.count() == 2


def test_an_agents_reply_references_the_root_and_the_parent(
    bluesky_channel, fake_bluesky, process_payloads, agent_reply
):
    ana = fake_bluesky.add_actor("ana.bsky.social")
    root = fake_bluesky.post(ana, "@nimbus.bsky.social is 5G down in Lyon?")
    follow_up = fake_bluesky.post(ana, "@nimbus.bsky.social hello?", reply_to=root)
    channel_poll(channel_id=bluesky_channel.pk)
    process_payloads(bluesky_channel)

    reply = agent_reply(bluesky_channel, "A fix is rolling out now.")

    assert reply.delivery_status == Message.Delivery.SENT
    (lookup,) = fake_bluesky.calls("app.bsky.feed.getPosts")
    assert lookup.query == {"uris": [follow_up["uri"]]}  # the latest inbound post
    (create,) = fake_bluesky.calls("com.atproto.repo.createRecord")
    body = create.json()
    assert body["repo"] == fake_bluesky.brand["did"] and body["collection"] == "app.bsky.feed.post"
    record = body["record"]
    assert record["$type"] == "app.bsky.feed.post" and record["text"] == "A fix is rolling out now."
    assert record["createdAt"].endswith("Z")
    assert record["reply"] == {
        "root": {"uri": root["uri"], "cid": root["cid"]},
        "parent": {"uri": follow_up["uri"], "cid": follow_up["cid"]},
    }
    assert reply.external_id == fake_bluesky.posts[-1]["uri"]

    # Ana answers the brand's post: a "reply" notification, threaded under the same root.
    fake_bluesky.post(ana, "works again, thanks!", reply_to=fake_bluesky.posts[-1])
    assert channel_poll(channel_id=bluesky_channel.pk) == 1
    process_payloads(bluesky_channel)
    assert Conversation.objects.count() == 1
    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 3


def test_a_reply_bluesky_refuses_fails_with_the_reason(
    bluesky_channel, fake_bluesky, process_payloads, agent_reply
):
    ana = fake_bluesky.add_actor("ana.bsky.social")
    fake_bluesky.post(ana, "@nimbus.bsky.social hello")
    channel_poll(channel_id=bluesky_channel.pk)
    process_payloads(bluesky_channel)

    too_long = agent_reply(bluesky_channel, "x" * 301)
    assert too_long.delivery_status == Message.Delivery.FAILED
    assert "longer than 300 graphemes" in too_long.delivery_error

    fake_bluesky.posts.clear()  # the post was deleted
    gone = agent_reply(bluesky_channel, "Hello Ana")
    assert gone.delivery_status == Message.Delivery.FAILED and "no longer exists" in gone.delivery_error
