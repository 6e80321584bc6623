"""The widget's WebSocket through the real ASGI app, the real Redis channel layer and real PostgreSQL."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from channels.testing import WebsocketCommunicator

from apps.accounts.models import Role
from apps.connectors.kinds import ChannelKind
from apps.connectors.models import Channel
from apps.conversations.models import Conversation, Message
from apps.conversations.services import message_add
from apps.customers.models import Identity
from apps.customers.services import active_customer, identity_resolve
from apps.ingestion import livechat as consumers
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_process
from apps.replies.delivery import message_deliver
from apps.replies.services import reply_create
from cxm.routing import websocket_application, websocket_urlpatterns
from tests.factories import ChannelFactory, membership_create

from .helpers import client_id, livechat_channel, open_socket, send_message, site_token, start

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def channel(brand_a):
    return livechat_channel(brand_a)


@sync_to_async
def process_visitor_payloads(channel, visitor):
    payloads = RawPayload.objects.filter(channel=channel, external_id__startswith=f"widget:{visitor}:")
    return [
        payload_process(payload_id=pk).status for pk in payloads.order_by("pk").values_list("pk", flat=True)
    ]


@sync_to_async
def agent_reply(channel, visitor, text, **kwargs):
    agent = membership_create(channel.organization, Role.COMMUNITY_MANAGER).user
    conversation = Conversation.objects.get(channel=channel, external_thread_id=visitor)
    reply = reply_create(conversation=conversation, author=agent, text=text, **kwargs)
    return reply


async def test_a_visitor_message_is_stored_then_ingested(channel):
    communicator, ready = await start(channel.webhook_token)
    visitor = ready["visitor"]
    assert len(visitor) == 32 and ready["history"] == [] and ready["identified"] is False
    message_id, ack = await send_message(communicator, "Hello, where is my order?")
    assert ack == {"type": "ack", "id": message_id, "duplicate": False}

    payload = await RawPayload.objects.aget(channel=channel, external_id=f"widget:{visitor}:{message_id}")
    assert payload.source == RawPayload.Source.WIDGET and payload.status == RawPayload.Status.RECEIVED
    body = json.loads(bytes(payload.body))
    assert body["text"] == "Hello, where is my order?" and body["client_message_id"] == message_id
    assert body["page"] == {"url": "https://shop.example/help", "title": "Help"}
    assert "identity" not in body

    # The same message again (the widget resends what was not acknowledged): stored once.
    _, again = await send_message(communicator, "Hello, where is my order?", message_id)
    assert again["duplicate"] is True
    assert await RawPayload.objects.filter(channel=channel).acount() == 1

    assert await process_visitor_payloads(channel, visitor) == [RawPayload.Status.PROCESSED]
    conversation = await Conversation.objects.aget(channel=channel, external_thread_id=visitor)
    message = await Message.objects.select_related("author_identity").aget(conversation=conversation)
    assert message.direction == Message.Direction.INBOUND and message.text == "Hello, where is my order?"
    assert message.metadata["page_url"] == "https://shop.example/help"
    identity = message.author_identity
    assert (identity.kind, identity.external_id) == (ChannelKind.LIVECHAT, visitor)
    assert conversation.customer_id == identity.customer_id
    await communicator.disconnect()


async def test_a_returning_visitor_keeps_their_conversation(channel):
    communicator, ready = await start(channel.webhook_token)
    visitor = ready["visitor"]
    await send_message(communicator, "first")
    await communicator.disconnect()
    communicator, again = await start(channel.webhook_token, visitor=visitor)
    assert again["visitor"] == visitor
    await send_message(communicator, "second")
    await process_visitor_payloads(channel, visitor)
    conversation = await Conversation.objects.aget(channel=channel, external_thread_id=visitor)
    assert [m.text async for m in Message.objects.filter(conversation=conversation)] == ["first", "second"]
    await communicator.disconnect()


async def test_an_agent_reply_reaches_its_visitor_and_no_other(channel):
    alice, ready_a = await start(channel.webhook_token)
    bob, _ = await start(channel.webhook_token)
    await send_message(alice, "Alice needs help")
    await send_message(bob, "Bob needs help too")
    await process_visitor_payloads(channel, ready_a["visitor"])
    assert await bob.receive_nothing(timeout=0.2)  # Bob never saw Alice's message

    reply = await agent_reply(channel, ready_a["visitor"], "Hi Alice, on its way!")
    await sync_to_async(message_deliver)(message_id=reply.pk)

    event = await alice.receive_json_from(timeout=5)
    assert event["type"] == "message"
    assert event["message"]["id"] == f"widget-out:{reply.pk}"
    assert event["message"]["from"] == "agent" and event["message"]["text"] == "Hi Alice, on its way!"
    assert await bob.receive_nothing(timeout=0.5)
    await reply.arefresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT and reply.external_id == f"widget-out:{reply.pk}"
    await alice.disconnect()
    await bob.disconnect()


async def test_every_tab_of_a_visitor_gets_the_reply_and_the_visitors_own_messages(channel):
    first_tab, ready = await start(channel.webhook_token)
    second_tab, _ = await start(channel.webhook_token, visitor=ready["visitor"])
    message_id, _ = await send_message(first_tab, "from the first tab")
    echo = await second_tab.receive_json_from(timeout=5)
    assert echo["message"]["id"] == message_id and echo["message"]["from"] == "visitor"
    await process_visitor_payloads(channel, ready["visitor"])
    reply = await agent_reply(channel, ready["visitor"], "to both tabs")
    await sync_to_async(message_deliver)(message_id=reply.pk)
    for tab in (first_tab, second_tab):
        event = await tab.receive_json_from(timeout=5)
        while event["message"]["from"] == "visitor":
            event = await tab.receive_json_from(timeout=5)
        assert event["message"]["text"] == "to both tabs"
        await tab.disconnect()


async def test_reconnecting_gets_the_history_of_this_visitor_only(channel):
    communicator, ready = await start(channel.webhook_token)
    visitor = ready["visitor"]
    asked, _ = await send_message(communicator, "Is it in stock?")
    await process_visitor_payloads(channel, visitor)
    reply = await agent_reply(channel, visitor, "Yes, it is.")
    await sync_to_async(message_deliver)(message_id=reply.pk)
    assert (await communicator.receive_json_from(timeout=5))["message"]["text"] == "Yes, it is."

    @sync_to_async
    def hidden_messages():
        conversation = Conversation.objects.get(channel=channel, external_thread_id=visitor)
        message_add(conversation=conversation, direction=Message.Direction.NOTE, text="internal: VIP")
        agent = membership_create(channel.organization).user
        from datetime import timedelta

        from django.utils import timezone

        reply_create(
            conversation=conversation,
            author=agent,
            text="scheduled for tomorrow",
            send_at=timezone.now() + timedelta(days=1),
        )

    await hidden_messages()
    unprocessed, _ = await send_message(communicator, "And in blue?")  # stored, not processed yet
    await communicator.disconnect()

    communicator, again = await start(channel.webhook_token, visitor=visitor)
    history = again["history"]
    assert [(item["from"], item["text"]) for item in history] == [
        ("visitor", "Is it in stock?"),
        ("agent", "Yes, it is."),
        ("visitor", "And in blue?"),
    ]
    assert history[0]["id"] == asked and history[2]["id"] == unprocessed
    assert history[1]["id"] == f"widget-out:{reply.pk}"
    await communicator.disconnect()

    stranger, fresh = await start(channel.webhook_token)
    assert fresh["visitor"] != visitor and fresh["history"] == []
    await stranger.disconnect()


async def test_a_signed_visitor_token_identifies_the_visitor_and_joins_their_site_account(channel):
    @sync_to_async
    def site_account():
        # The brand-site account, known before (e.g. imported from the CRM).
        return identity_resolve(organization=channel.organization, kind="website", external_id="user-42")

    account = await site_account()
    # The visitor first chats anonymously, then logs in on the brand's site, in the same browser.
    communicator, ready = await start(channel.webhook_token)
    visitor = ready["visitor"]
    await send_message(communicator, "anonymous question")
    await communicator.disconnect()
    await process_visitor_payloads(channel, visitor)
    anonymous = await Identity.objects.aget(kind=ChannelKind.LIVECHAT, external_id=visitor)
    assert anonymous.customer_id != account.customer_id

    communicator, ready = await start(channel.webhook_token, visitor=visitor, visitor_token=site_token())
    assert ready["identified"] is True and ready["name"] == "Ana Lima"
    assert await communicator.receive_nothing(timeout=0.2)  # no warning
    await send_message(communicator, "now logged in")
    await communicator.disconnect()
    payload = await RawPayload.objects.filter(channel=channel).order_by("-pk").afirst()
    assert "identity" in json.loads(bytes(payload.body))
    await process_visitor_payloads(channel, visitor)

    @sync_to_async
    def outcome():
        message = Message.objects.select_related("author_identity", "conversation").get(text="now logged in")
        website = message.author_identity
        anonymous.refresh_from_db()
        holders = {active_customer(i.customer).pk for i in (website, anonymous)}
        return message, website, holders

    message, website, holders = await outcome()
    assert (website.kind, website.external_id) == ("website", "user-42")
    assert website.pk == account.pk
    assert website.email == "ana@example.com" and website.email_verified
    assert holders == {account.customer_id}  # one profile: site account + the anonymous chat
    assert message.conversation.external_thread_id == visitor  # still the same conversation


@pytest.mark.parametrize(
    "token,code",
    [
        (lambda: site_token(secret="not-the-brand-secret"), "visitor_token_invalid"),
        (lambda: site_token(exp_in=-60), "visitor_token_expired"),
        (lambda: "garbage", "visitor_token_invalid"),
    ],
)
async def test_a_bad_visitor_token_leaves_the_visitor_anonymous_with_a_warning(channel, token, code):
    communicator, ready = await start(channel.webhook_token, visitor_token=token())
    assert ready["identified"] is False
    warning = await communicator.receive_json_from(timeout=5)
    assert warning["type"] == "warning" and warning["code"] == code
    _, ack = await send_message(communicator, "still chatting")
    assert ack["duplicate"] is False
    await process_visitor_payloads(channel, ready["visitor"])
    message = await Message.objects.select_related("author_identity").aget(text="still chatting")
    assert message.author_identity.kind == ChannelKind.LIVECHAT
    assert not await Identity.objects.filter(kind="website").aexists()
    await communicator.disconnect()


async def test_origins_outside_the_channels_allowed_origins_are_refused(brand_a):
    channel = await sync_to_async(livechat_channel)(
        brand_a, settings={"allowed_origins": ["http://127.0.0.1", "https://*.shop.example"]}
    )
    _, connected, code = await open_socket(channel.webhook_token, origin=b"http://localhost")
    assert not connected and code == consumers.CLOSE_FORBIDDEN_ORIGIN
    _, connected, code = await open_socket(channel.webhook_token, origin=None)
    assert not connected
    communicator, connected, _ = await open_socket(channel.webhook_token)
    assert connected
    await communicator.disconnect()

    # Mounted outside CXM's own host check (as brands' sites need), the channel's list decides alone,
    # while every other socket still goes through the ALLOWED_HOSTS check.
    widget_app = websocket_application(
        AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
    )
    for origin, allowed in [
        (b"https://www.shop.example", True),
        (b"https://shop.example.evil.example", False),
        (b"http://www.shop.example", False),
        (b"https://evil.example", False),
    ]:
        communicator, connected, code = await open_socket(
            channel.webhook_token, origin=origin, app=widget_app
        )
        assert connected is allowed, origin
        if connected:
            await communicator.disconnect()
        else:
            assert code == consumers.CLOSE_FORBIDDEN_ORIGIN
    inbox = WebsocketCommunicator(
        widget_app, "/ws/inbox/", headers=[(b"origin", b"https://www.shop.example")]
    )
    connected, _ = await inbox.connect(timeout=5)
    assert not connected


async def test_oversized_malformed_and_early_messages_are_error_events(channel):
    communicator, _, _ = await open_socket(channel.webhook_token)
    await communicator.send_json_to({"type": "message", "id": client_id(), "text": "before hello"})
    assert (await communicator.receive_json_from())["code"] == "not_ready"
    await communicator.send_json_to({"type": "hello"})
    assert (await communicator.receive_json_from())["type"] == "ready"

    too_long = client_id()
    await communicator.send_json_to({"type": "message", "id": too_long, "text": "x" * 5001})
    error = await communicator.receive_json_from()
    assert error == {
        "type": "error",
        "code": "too_long",
        "detail": "a message holds at most 5000 characters",
        "id": too_long,
        "limit": 5000,
    }
    await communicator.send_to(text_data="{not json")
    assert (await communicator.receive_json_from())["code"] == "bad_json"
    await communicator.send_to(text_data="x" * 30_000)
    assert (await communicator.receive_json_from())["code"] == "too_long"
    await communicator.send_json_to({"type": "message", "id": "bad id!", "text": "hi"})
    assert (await communicator.receive_json_from())["code"] == "bad_id"
    await communicator.send_json_to({"type": "message", "id": client_id(), "text": "   "})
    assert (await communicator.receive_json_from())["code"] == "empty"
    await communicator.send_json_to({"type": "hello"})
    assert (await communicator.receive_json_from())["code"] == "already_started"
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}

    # Still usable, and nothing of the refused messages was stored.
    await send_message(communicator, "x" * 5000)
    assert await RawPayload.objects.filter(channel=channel).acount() == 1
    await communicator.disconnect()


async def test_a_flood_of_messages_is_rate_limited(channel):
    communicator, _ = await start(channel.webhook_token)
    sent = [client_id() for _ in range(25)]
    for message_id in sent:
        await communicator.send_json_to({"type": "message", "id": message_id, "text": f"spam {message_id}"})
    acks, limited = [], []
    while len(acks) + len(limited) < len(sent):
        event = await communicator.receive_json_from(timeout=5)
        if event["type"] == "ack":
            acks.append(event["id"])
        elif event["type"] == "error":
            assert event["code"] == "rate_limited" and 0 < event["retry_after"] <= 10
            limited.append(event["id"])
    assert acks == sent[:20] and limited == sent[20:]
    assert await RawPayload.objects.filter(channel=channel).acount() == 20
    await communicator.disconnect()


async def test_unknown_paused_and_other_channels_are_refused(brand_a):
    paused = await sync_to_async(livechat_channel)(brand_a, status=Channel.Status.PAUSED)
    email = await sync_to_async(ChannelFactory)(brand=brand_a, kind=ChannelKind.EMAIL)
    for token in ["no-such-channel", paused.webhook_token, email.webhook_token]:
        _, connected, code = await open_socket(token)
        assert not connected and code == consumers.CLOSE_UNKNOWN_CHANNEL, token


async def test_a_channel_paused_during_a_chat_stops_taking_messages(channel):
    communicator, _ = await start(channel.webhook_token)
    await Channel.objects.filter(pk=channel.pk).aupdate(status=Channel.Status.PAUSED)
    message_id = client_id()
    await communicator.send_json_to({"type": "message", "id": message_id, "text": "anyone?"})
    error = await communicator.receive_json_from(timeout=5)
    assert error["code"] == "unavailable" and error["id"] == message_id
    assert (await communicator.receive_output(timeout=5))["code"] == consumers.CLOSE_UNKNOWN_CHANNEL
    assert not await RawPayload.objects.filter(channel=channel).aexists()


async def test_an_idle_visitor_socket_stays_open(channel):
    import asyncio

    communicator, _ = await start(channel.webhook_token)
    await asyncio.sleep(7)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    await communicator.disconnect()
