"""Each live event, as the pipeline really emits it, reaches only the sockets allowed to see it.

Everything is real: signed webhooks POSTed to uvicorn serving cxm.asgi, a Celery worker that ingests and
classifies them, the Redis channel layer, agents' actions through the pages, and WebSocket clients
(the `websockets` library) logged in with session cookies. Expectations come from live_event_matrix.py.
"""

import json
import threading
import time
import urllib.request

import pytest
from django.test import Client
from django.urls import reverse
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from apps.accounts.models import Role
from apps.connectors.kinds import ChannelKind
from apps.connectors.webhook.connector import sign
from apps.conversations.models import Conversation
from tests.connectors.livechat.test_widget_browser import AsgiServer
from tests.factories import BrandFactory, ChannelFactory, IdentityFactory, membership_create
from tests.fakes.telegram import CUSTOMER, TOKEN, FakeTelegram
from tests.ingestion.conftest import SECRET, message
from tests.replies.conftest import conversation_on

from .live_event_matrix import CONVERSATION_SOCKET, INBOX_EVENTS, INBOX_SOCKET, REFUSED, ROLES

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def asgi_server(transactional_db, tmp_path):
    server = AsgiServer(tmp_path / "uvicorn.log")
    server.start()
    yield server
    server.stop()


class Socket:
    """A WebSocket client on its own thread, keeping every JSON message it receives."""

    def __init__(self, url: str, origin: str, session: str | None):
        headers = {"Origin": origin}
        if session:
            headers["Cookie"] = f"sessionid={session}"
        self.received: list[dict] = []
        self.refused = False
        try:
            self.connection = connect(url, additional_headers=headers, open_timeout=10)
        except InvalidStatus:  # Channels answers a socket it closes before accepting with HTTP 403
            self.refused = True
            return
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            while True:
                self.received.append(json.loads(self.connection.recv()))
        except ConnectionClosed:
            pass

    def close(self):
        if not self.refused:
            self.connection.close()
            self.thread.join(5)


@pytest.fixture
def world(org_a, org_b):
    brands = {
        "brand": BrandFactory(organization=org_a, name="Brand one"),
        "other_brand": BrandFactory(organization=org_a, name="Brand two"),
        "foreign_brand": BrandFactory(organization=org_b, name="Foreign brand"),
    }
    channels = {
        key: ChannelFactory(brand=brand, kind=ChannelKind.WEBHOOK, credentials={"signing_secret": SECRET})
        for key, brand in brands.items()
    }
    members = {
        "admin": membership_create(org_a, Role.ADMIN),
        "agent": membership_create(org_a, Role.COMMUNITY_MANAGER),
        "limited_agent": membership_create(org_a, Role.COMMUNITY_MANAGER, brands=[brands["brand"]]),
        "marketer": membership_create(org_a, Role.MARKETER),
        "other_admin": membership_create(org_b, Role.ADMIN),
    }
    telegram_channels = {
        key: ChannelFactory(
            brand=brand,
            kind=ChannelKind.TELEGRAM,
            credentials={"bot_token": TOKEN, "webhook_secret": "tg-secret"},
            settings={"api_base": "http://127.0.0.1:9"},
        )
        for key, brand in brands.items()
    }
    with FakeTelegram(token=TOKEN) as telegram:
        yield {
            "brands": brands,
            "channels": channels,
            "telegram_channels": telegram_channels,
            "telegram": telegram,
            "members": members,
        }


def _session(membership) -> tuple[Client, str]:
    client = Client()
    client.force_login(membership.user)
    return client, client.cookies["sessionid"].value


def _post_webhook(server: AsgiServer, channel, n: int) -> None:
    body = json.dumps(message(n, text=f"My order {n} never arrived, this is terrible service")).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        f"{server.url}/hooks/{channel.webhook_token}/",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-CXM-Timestamp": timestamp,
            "X-CXM-Signature": sign(SECRET, timestamp, body),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _conversation_ids(payload: dict) -> set[int]:
    """The conversations an event is about, whatever its shape."""
    ids = {item["conversation"] for item in payload.get("messages", [])}
    ids |= set(payload.get("conversations", []))
    if payload.get("conversation"):
        ids.add(payload["conversation"])
    return ids


def test_each_live_event_reaches_only_the_sockets_allowed_to_see_it(world, asgi_server, celery_worker):
    ws_url = asgi_server.url.replace("http://", "ws://")
    sessions = {role: _session(world["members"][role]) for role in world["members"]}
    inbox = {
        role: Socket(f"{ws_url}/ws/inbox/", asgi_server.url, sessions[role][1] if role in sessions else None)
        for role in ROLES
    }
    try:
        for role, expected in INBOX_SOCKET.items():
            assert inbox[role].refused == (expected == REFUSED), role

        # Given a message on each brand, through the real webhook and the real worker...
        for n, channel in enumerate(world["channels"].values()):
            _post_webhook(asgi_server, channel, n)
        _wait_until(
            lambda: Conversation.objects.filter(channel__kind=ChannelKind.WEBHOOK).count() == 3,
            60,
            "the worker to ingest the webhooks",
        )
        conversations = {key: Conversation.objects.get(channel=ch) for key, ch in world["channels"].items()}
        brand_of = {conversation.pk: key for key, conversation in conversations.items()}

        # ...the conversation page's socket of an `other_brand` conversation, by role...
        conversation_url = f"{ws_url}/ws/conversation/{conversations['other_brand'].pk}/"
        viewers = {
            role: Socket(conversation_url, asgi_server.url, sessions[role][1] if role in sessions else None)
            for role in ROLES
        }
        for role, allowed in CONVERSATION_SOCKET.items():
            assert viewers[role].refused == (not allowed), role

        # ...and agents' actions through the pages: assignments (conversation.updated, notifications), a note.
        admin_client, agent_client = sessions["admin"][0], sessions["agent"][0]
        other_admin_client = sessions["other_admin"][0]
        for client, conversation, assignee in (
            (admin_client, conversations["brand"], world["members"]["limited_agent"]),
            (admin_client, conversations["other_brand"], world["members"]["agent"]),
            (other_admin_client, conversations["foreign_brand"], world["members"]["other_admin"]),
        ):
            url = reverse("inbox:conversation_action", args=[conversation.pk])
            response = client.post(url, {"action": "assign", "assignee": assignee.user_id})
            assert response.status_code in (200, 302), response.content.decode()[:500]
        note_url = reverse("inbox:note_create", args=[conversations["other_brand"].pk])
        assert agent_client.post(note_url, {"text": "checking the courier"}).status_code in (200, 302)

        # ...and a reply on each brand from the composer, that the worker delivers to (fake) Telegram:
        # message.created, then message.delivery as its status changes.
        for n, (key, channel) in enumerate(world["telegram_channels"].items()):
            channel.settings = {"api_base": world["telegram"].url}
            channel.save()
            chat_id = str(CUSTOMER["id"] + n)
            chat = conversation_on(channel, external_thread_id=chat_id)
            IdentityFactory(customer=chat.customer, kind=ChannelKind.TELEGRAM, external_id=chat_id)
            brand_of[chat.pk] = key
            client = other_admin_client if key == "foreign_brand" else admin_client
            response = client.post(
                reverse("replies:compose", args=[chat.pk]),
                {"channel": channel.pk, "action": "send", "text": "It ships tomorrow."},
                HTTP_HX_REQUEST="true",
            )
            assert response.status_code == 200 and "Reply queued" in response.content.decode()

        # Then every allowed socket hears every event type of every brand it may see...
        def heard(role: str) -> set[tuple[str, str]]:
            return {
                (event["event"], brand_of[conversation_id])
                for event in list(inbox[role].received)
                if event.get("event") in INBOX_EVENTS
                for conversation_id in _conversation_ids(event)
            }

        expected = {
            role: {(event, brand) for event in INBOX_EVENTS for brand in brands}
            for role, brands in INBOX_SOCKET.items()
            if brands != REFUSED
        }
        _wait_until(
            lambda: all(expected[role] <= heard(role) for role in expected),
            120,
            "every allowed socket to hear every event (classification included)",
        )
        time.sleep(1.5)  # anything that should not arrive has had the time to
        for role in expected:
            assert heard(role) == expected[role], role
            # An event of a brand a socket may not see does not reach it in any shape.
            for event in inbox[role].received:
                assert {brand_of.get(c) for c in _conversation_ids(event)} <= INBOX_SOCKET[role], (
                    role,
                    event,
                )

        # ...notifications reach their recipient alone...
        notified = {
            role: {
                brand_of[e["conversation"]]
                for e in inbox[role].received
                if e["event"] == "notification.created"
            }
            for role in expected
        }
        assert notified == {
            "admin": set(),
            "agent": {"other_brand"},
            "limited_agent": {"brand"},
            "other_admin": set(),
        }

        # ...and the note on the `other_brand` conversation reaches the pages open on it.
        _wait_until(
            lambda: any(e.get("event") == "note" for e in viewers["admin"].received), 10, "the note event"
        )
        for role, allowed in CONVERSATION_SOCKET.items():
            if not allowed:
                assert viewers[role].refused and not viewers[role].received
    finally:
        for socket in [*inbox.values(), *locals().get("viewers", {}).values()]:
            socket.close()
