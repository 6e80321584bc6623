"""The composer in a real browser on the real ASGI server, with a real worker sending to the fake Telegram Bot
API: keyboard only, live limits, drafts, and delivery status that follows without a reload."""

import pytest
from django.urls import reverse

from apps.conversations.models import Message
from apps.inbox.live import push_message_events
from tests.connectors.livechat.test_widget_browser import CHROMIUM, ROOT, off_loop
from tests.inbox.test_inbox_browser import _log_in

from .factories import SavedReplyFactory

SCREENSHOT = ROOT / "test-artifacts" / "reply-composer.png"

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]


def settled(page) -> None:
    """Wait for htmx to finish swapping: a key pressed in a form that is still being swapped in would submit
    it without htmx."""
    from playwright.sync_api import expect

    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")).to_have_count(0)


def _receipt(message_id: int) -> None:
    """What the pipeline does with a platform's "delivered" receipt: store it, tell the open pages."""
    message = Message.objects.select_related("conversation").get(pk=message_id)
    message.delivery_status = Message.Delivery.DELIVERED
    message.save(update_fields=["delivery_status"])
    push_message_events("message.delivery", [message])


def test_an_agent_replies_with_the_keyboard_and_follows_the_delivery_live(
    asgi_server, celery_worker, telegram, telegram_conversation, agent, page
):
    from playwright.sync_api import expect

    off_loop(
        SavedReplyFactory,
        organization=telegram_conversation.organization,
        title="Where is my order",
        language="en",
        body="Hi {first_name}, your order is on its way.",
    )
    conversation_url = reverse("inbox:conversation", args=[telegram_conversation.pk])
    _log_in(page, asgi_server.url, agent.user.username)
    page.goto(f"{asgi_server.url}{conversation_url}")
    # The socket opens once the page and the lazily loaded composer are in: slower on a loaded CI machine.
    expect(page.locator("#reply-live")).to_have_text("(live)", timeout=20_000)
    text = page.get_by_role("textbox", name="Your reply")

    # Typing is checked live against Telegram's limits.
    text.focus()
    page.keyboard.type('<img src=x onerror="window.hacked=1"> order {order_id}')
    expect(page.locator("#reply-limits")).to_contain_text("The text still holds {order_id}")

    # A draft fills the textarea; nothing is sent by it.
    page.get_by_role("link", name="Suggest replies").focus()
    page.keyboard.press("Enter")
    # (The first suggestion of a server process loads the sentence encoder.)
    expect(page.locator("#reply-suggestions")).to_contain_text(
        "Why: the saved reply “Where is my order”", timeout=30_000
    )
    settled(page)
    page.get_by_role("button", name="Use draft 1").focus()
    page.keyboard.press("Enter")
    expect(text).to_have_value("Hi Ana, your order is on its way.")
    assert off_loop(lambda: Message.objects.filter(direction="outbound").count()) == 0

    # Ctrl+Enter sends; the worker delivers it and the list follows.
    settled(page)
    text.focus()
    page.keyboard.press("Control+Enter")
    expect(page.locator("#reply-form")).to_contain_text("Reply queued on Support bot")
    expect(text).to_have_value("")
    first = page.locator("#reply-delivery-list li").first
    expect(first).to_have_attribute("data-status", "sent", timeout=15_000)
    assert [sent["text"] for sent in telegram.sent] == ["Hi Ana, your order is on its way."]

    # A platform receipt arrives on the WebSocket: "delivered", without polling or a reload.
    page.evaluate("window.stayed = true")
    off_loop(_receipt, off_loop(lambda: Message.objects.get(direction="outbound").pk))
    expect(first).to_have_attribute("data-status", "delivered", timeout=10_000)
    expect(page.locator("#reply-delivery-news")).to_have_text("Reply delivery: Delivered.")

    # A failure shows its reason; Retry (from the keyboard) sends it again.
    telegram.fail_next(403, "Forbidden: bot was blocked by the user")
    settled(page)
    text.focus()
    page.keyboard.type("<script>window.hacked=2</script> Are you there?")
    page.keyboard.press("Control+Enter")
    expect(first).to_contain_text("Failed: Telegram sendMessage: Forbidden: bot was blocked", timeout=15_000)
    page.screenshot(path=SCREENSHOT, full_page=True)
    settled(page)
    page.get_by_role("button", name="Retry").focus()
    page.keyboard.press("Enter")
    expect(first).to_have_attribute("data-status", "sent", timeout=15_000)
    assert telegram.sent[-1]["text"] == "<script>window.hacked=2</script> Are you there?"
    assert page.evaluate("window.hacked") is None and page.evaluate("window.stayed") is True
