"""The search page in a real browser on the real ASGI server: a search swaps in its results (htmx), a bad
query says where it is wrong, hostile text stays text."""

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from tests.connectors.livechat.test_widget_browser import CHROMIUM, ROOT, off_loop
from tests.factories import PASSWORD, BrandFactory, ChannelFactory, membership_create

from .conftest import message_on

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.django_db(transaction=True),
]


def _world(org_a):
    channel = ChannelFactory(brand=BrandFactory(organization=org_a))
    message_on(channel, "Der Akku hält nicht lange", language="de")
    message_on(channel, '<img src=x onerror="window.hacked=1"> akku kaputt', language="de")
    return membership_create(org_a, Role.COMMUNITY_MANAGER, username="browser.searcher")


def test_an_agent_searches_and_reads_highlighted_results(asgi_server, org_a, page):
    from playwright.sync_api import expect

    agent = off_loop(_world, org_a)
    page.goto(f"{asgi_server.url}{reverse('login')}?next={reverse('search:index')}")
    page.get_by_label("Username").fill(agent.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(lambda address: urlsplit(address).path == reverse("search:index"))

    box = page.get_by_label("Search", exact=True)
    box.fill("akku")
    box.press("Enter")
    results = page.locator("#search-results li[data-message]")
    expect(results).to_have_count(2)
    marks = sorted(page.locator("#search-results mark").all_inner_texts())
    assert marks == ["Akku", "akku"], marks
    assert page.evaluate("window.hacked") is None and page.locator("#search-results img").count() == 0
    page.wait_for_url(lambda address: "q=akku" in address)  # the address follows: shareable
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    page.screenshot(path=str(ROOT / "test-artifacts" / "search-page.png"), full_page=True)

    box.fill("akku AND")
    box.press("Enter")
    expect(page.locator("#search-error")).to_contain_text("This search cannot run")
