"""A message edited, reacted to and deleted on its platform, in a real browser: signed Telegram webhooks to
the real ASGI server, processed by a real Celery worker, and the open conversation page shows each change
live (the `message.updated` event), with the earlier version and the deleted text kept for audit."""

import time

import httpx
import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Message
from apps.ingestion.models import RawPayload
from tests.connectors.livechat.test_widget_browser import CHROMIUM, off_loop
from tests.factories import PASSWORD, BrandFactory, ChannelFactory, membership_create
from tests.fakes.telegram import CUSTOMER, DATE, TOKEN

SECRET = "browser-telegram-secret"
CONNECTION = "business-connection-1"
CHAT = {"id": CUSTOMER["id"], "first_name": CUSTOMER["first_name"], "type": "private"}

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]


def _business_message(text: str, **extra) -> dict:
    return {
        "business_connection_id": CONNECTION,
        "message_id": 7,
        "from": CUSTOMER,
        "chat": CHAT,
        "date": DATE,
        "text": text,
        **extra,
    }


def _desk(org_a):
    channel = ChannelFactory(
        brand=BrandFactory(organization=org_a),
        kind=ChannelKind.TELEGRAM,
        credentials={"bot_token": TOKEN, "webhook_secret": SECRET},
        settings={"api_base": "http://127.0.0.1:9"},
    )
    return channel, membership_create(org_a, Role.COMMUNITY_MANAGER, username="audit.agent")


def _deliver(server, channel, update: dict) -> None:
    """POST the update as Telegram does, and wait until the worker has settled the payload."""
    response = httpx.post(
        f"{server.url}/hooks/{channel.webhook_token}/",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert response.status_code == 200, response.text
    payload_id = response.json()["received"]
    deadline = time.monotonic() + 60
    while off_loop(lambda: RawPayload.objects.get(pk=payload_id).status) == RawPayload.Status.RECEIVED:
        assert time.monotonic() < deadline, f"payload {payload_id} left waiting"
        time.sleep(0.2)


def test_an_edit_a_reaction_and_a_deletion_show_live_on_the_open_conversation(
    asgi_server, celery_worker, org_a, page
):
    from playwright.sync_api import expect

    channel, agent = off_loop(_desk, org_a)
    _deliver(
        asgi_server, channel, {"update_id": 1, "business_message": _business_message("My order is late")}
    )
    conversation_id = off_loop(
        lambda: Message.objects.get(channel=channel, external_id=f"{CUSTOMER['id']}:7").conversation_id
    )
    url = reverse("inbox:conversation", args=[conversation_id])

    page.goto(f"{asgi_server.url}{reverse('login')}?next={url}")
    page.get_by_label("Username").fill(agent.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    expect(page.locator("[data-conversation-page]")).to_have_attribute("data-live", "true")
    message = page.locator("#thread article.msg").filter(has_text="My order is late")
    expect(message).to_have_count(1)
    expect(message.locator("[data-edited]")).to_have_count(0)

    # Edited on Telegram: the page shows the new text, marked edited, the earlier one behind a toggle.
    edited = _business_message("My order #12 is late, please call me", edit_date=DATE + 60)
    _deliver(asgi_server, channel, {"update_id": 2, "edited_business_message": edited})
    message = page.locator("#thread article.msg").filter(has_text="please call me")
    expect(message.locator("[data-edited]")).to_have_text("edited")
    earlier = message.locator("details.edits")
    expect(earlier.locator("summary")).to_have_text("Earlier versions (1)")
    expect(earlier.locator("li")).not_to_be_visible()
    earlier.locator("summary").click()
    expect(earlier.locator("li")).to_contain_text("My order is late")

    # A reaction: shown on the message.
    reaction = {
        "chat": CHAT,
        "message_id": 7,
        "user": CUSTOMER,
        "date": DATE + 90,
        "old_reaction": [],
        "new_reaction": [{"type": "emoji", "emoji": "👍"}],
    }
    _deliver(asgi_server, channel, {"update_id": 3, "message_reaction": reaction})
    expect(message.locator(".reactions li")).to_have_text("👍")

    # Deleted by the customer: still there for audit, struck through and marked deleted.
    deleted = {"business_connection_id": CONNECTION, "chat": CHAT, "message_ids": [7]}
    _deliver(asgi_server, channel, {"update_id": 4, "deleted_business_messages": deleted})
    expect(message.locator("[data-deleted]")).to_have_text("deleted")
    expect(message.locator(".body del")).to_have_text("My order #12 is late, please call me")
    expect(message.locator("[data-edited]")).to_have_count(0)
