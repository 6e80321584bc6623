"""Mastodon end to end: poll → raw payloads → threaded conversations and profiles; replies as statuses."""

import pytest

from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Conversation, Message
from apps.customers.models import Identity
from apps.ingestion.models import RawPayload
from apps.ingestion.polling import channel_poll

pytestmark = pytest.mark.django_db


def test_mentions_and_replies_become_one_threaded_conversation(
    mastodon_channel, fake_mastodon, process_payloads
):
    ana = fake_mastodon.add_account("ana", domain="other.example", display_name="Ana", followers=321)
    root = fake_mastodon.toot(ana, "<p>@nimbus my bill doubled</p>")
    follow_up = fake_mastodon.toot(ana, "<p>@nimbus still nothing?</p>", reply_to=root)

    assert channel_poll(channel_id=mastodon_channel.pk) == 2
    assert process_payloads(mastodon_channel) == 2  # the reply first: it still threads under the root

    conversation = Conversation.objects.get()
    assert conversation.external_thread_id == root["id"]
    assert list(conversation.messages.values_list("external_id", flat=True)) == [root["id"], follow_up["id"]]
    assert conversation.messages.first().text == "@nimbus my bill doubled"
    identity = Identity.objects.get(kind=ChannelKind.MASTODON, external_id="ana@other.example")
    assert (identity.handle, identity.followers, identity.display_name) == ("@ana@other.example", 321, "Ana")
    assert identity.profile_url == "https://other.example/@ana"
    assert conversation.customer == identity.customer

    assert channel_poll(channel_id=mastodon_channel.pk) == 0
    mastodon_channel.refresh_from_db()
    mastodon_channel.cursor = {}
    mastodon_channel.save()
    assert channel_poll(channel_id=mastodon_channel.pk) == 0  # from scratch: the same status ids, stored once
    assert RawPayload.objects.count() == 2 and Message.objects.count() == 2


def test_an_agents_reply_mentions_the_author_and_keeps_the_visibility(
    mastodon_channel, fake_mastodon, process_payloads, agent_reply
):
    ana = fake_mastodon.add_account("ana", domain="other.example")
    status = fake_mastodon.toot(ana, "<p>@nimbus is 5G down in Lyon?</p>")
    channel_poll(channel_id=mastodon_channel.pk)
    process_payloads(mastodon_channel)

    reply = agent_reply(mastodon_channel, "A fix is rolling out now.")

    assert reply.delivery_status == Message.Delivery.SENT
    (post,) = [r for r in fake_mastodon.requests if r.method == "POST"]
    assert post.path == "/api/v1/statuses"
    assert post.headers["authorization"] == "Bearer mastodon-user-token"
    assert post.headers["idempotency-key"] == f"cxm-message-{reply.pk}"
    assert post.json() == {
        "status": "@ana@other.example A fix is rolling out now.",
        "in_reply_to_id": status["id"],
        "visibility": "public",
    }
    assert reply.external_id == fake_mastodon.statuses[-1]["id"]

    # Ana answers the brand: the mention comes back and joins the conversation.
    fake_mastodon.toot(ana, "<p>@nimbus works again, thanks</p>", reply_to=fake_mastodon.statuses[-1])
    channel_poll(channel_id=mastodon_channel.pk)
    process_payloads(mastodon_channel)
    assert Conversation.objects.count() == 1
    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == 2


def test_a_direct_message_is_answered_directly(
    mastodon_channel, fake_mastodon, process_payloads, agent_reply
):
    ana = fake_mastodon.add_account("ana", domain="other.example")
    fake_mastodon.toot(ana, "<p>@nimbus my account number is 123</p>", visibility="direct")
    channel_poll(channel_id=mastodon_channel.pk)
    process_payloads(mastodon_channel)
    assert Message.objects.get().metadata["mastodon"]["visibility"] == "direct"

    reply = agent_reply(mastodon_channel, "@ana@other.example thanks, refund done.")

    (post,) = [r for r in fake_mastodon.requests if r.method == "POST"]
    assert post.json()["visibility"] == "direct"
    assert post.json()["status"] == "@ana@other.example thanks, refund done."  # not mentioned twice
    assert reply.delivery_status == Message.Delivery.SENT


def test_a_reply_to_a_deleted_status_fails_with_the_reason(
    mastodon_channel, fake_mastodon, process_payloads, agent_reply
):
    ana = fake_mastodon.add_account("ana", domain="other.example")
    fake_mastodon.toot(ana, "<p>@nimbus hello</p>")
    channel_poll(channel_id=mastodon_channel.pk)
    process_payloads(mastodon_channel)
    fake_mastodon.statuses.clear()

    reply = agent_reply(mastodon_channel, "Hello Ana")

    assert reply.delivery_status == Message.Delivery.FAILED
    assert "HTTP 404" in reply.delivery_error and "Record not found" in reply.delivery_error
