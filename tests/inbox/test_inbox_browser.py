"""The inbox list in a real browser on the real ASGI server: keyboard only, and live without a reload."""

import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.conversations.models import Conversation
from apps.inbox.live import push_message_events
from tests.connectors.livechat.test_widget_browser import CHROMIUM, ROOT, off_loop
from tests.factories import PASSWORD, BrandFactory, ChannelFactory, membership_create

from .conftest import conversation_with, hours_ago

SCREENSHOT = ROOT / "test-artifacts" / "inbox-list.png"

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.django_db(transaction=True),
]


def _inbox(org_a):
    brand = BrandFactory(organization=org_a)
    channel = ChannelFactory(brand=brand)
    agent = membership_create(org_a, Role.COMMUNITY_MANAGER, username="keyboard.agent")
    for n, priority in enumerate((90, 60, 30)):
        conversation_with(
            channel, subject=f"Conversation {n}", priority=priority, last_message_at=hours_ago(n)
        )
    conversation_with(channel, subject='<img src=x onerror="window.hacked=1">', priority=1)
    return channel, agent


def _log_in(page, url, username):
    from playwright.sync_api import expect

    page.goto(f"{url}{reverse('login')}?next={reverse('inbox:index')}")
    # The username field has the focus once the page is ready; keys typed before that would be lost.
    expect(page.get_by_label("Username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    # The path itself (the login page's own URL ends with ?next=/inbox/ too).
    page.wait_for_url(lambda address: urlsplit(address).path == reverse("inbox:index"))
    # The page's scripts have run once its WebSocket is open (keys pressed earlier would be lost).
    expect(page.locator("#inbox-live")).to_have_text("Live")


def test_an_agent_works_the_list_with_the_keyboard_and_sees_new_messages_live(asgi_server, org_a, page):
    from playwright.sync_api import expect

    channel, agent = off_loop(_inbox, org_a)
    _log_in(page, asgi_server.url, agent.user.username)
    rows = page.locator("#inbox-results tbody tr")
    expect(rows).to_have_count(4)
    assert page.evaluate("window.hacked") is None and page.locator("#inbox-results img").count() == 0

    page.keyboard.press("j")
    expect(page.get_by_role("link", name="Conversation 0")).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    expect(page.get_by_role("link", name="Conversation 1")).to_be_focused()
    page.keyboard.press("x")
    expect(page.get_by_role("checkbox", name="Conversation 1")).to_be_checked()
    expect(page.get_by_text("1 selected")).to_be_visible()
    page.screenshot(path=SCREENSHOT, full_page=True)

    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    page.keyboard.press("a")  # assigns the selected conversation to me
    expect(page.locator("#inbox-action-status")).to_have_text("Assigned 1 to you.")
    expect(page.get_by_text("None selected")).to_be_visible()
    assignee = off_loop(lambda: Conversation.objects.get(subject="Conversation 1").assignee_id)
    assert assignee == agent.user_id
    mine = page.get_by_role("link", name=re.compile(r"^Mine"))
    expect(mine.locator(".count")).to_have_text("1")

    # A message arrives: the list and its counts follow, without a reload of the page.
    page.evaluate("window.stayed = true")

    def arrive():
        conversation = conversation_with(channel, subject="Brand new question", priority=99)
        push_message_events("message.created", list(conversation.messages.all()))

    off_loop(arrive)
    expect(rows.first).to_contain_text("Brand new question", timeout=10_000)
    assert page.evaluate("window.stayed") is True

    # Focus on a row survives the refresh; "c" closes it, "o" opens the next one.
    page.get_by_role("link", name="Conversation 0").focus()
    page.keyboard.press("c")
    expect(page.locator("#inbox-action-status")).to_have_text("Status of 1: Closed.")
    expect(page.get_by_role("link", name="Conversation 0")).to_have_count(0)
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(re.compile(r"/inbox/c/\d+/$"))


def test_filters_and_views_change_the_list_and_the_address(asgi_server, org_a, page):
    from playwright.sync_api import expect

    channel, agent = off_loop(_inbox, org_a)
    off_loop(lambda: Conversation.objects.filter(subject="Conversation 2").update(sentiment="negative"))
    _log_in(page, asgi_server.url, agent.user.username)

    page.get_by_label("Sentiment").select_option("negative")
    expect(page.locator("#inbox-results tbody tr")).to_have_count(1)
    # An agent's list starts on "Needs reply" (these wait for the classifier, so they are in it).
    expect(page).to_have_url(re.compile(r"/inbox/\?view=needs_reply&sentiment=negative$"))
    page.get_by_role("link", name=re.compile(r"^Unassigned")).click()
    expect(page).to_have_url(re.compile(r"/inbox/\?view=unassigned&sentiment=negative$"))
    page.get_by_label("Save this list as").fill("Angry and waiting")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Angry and waiting")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/inbox/\?view=unassigned&sentiment=negative$"))
