"""The customer list in a real browser on a phone: never-contacted customers come last, a phone number
typed as people type it finds its customer, and the filters wrap instead of pushing the page sideways."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from tests.connectors.livechat.test_widget_browser import CHROMIUM, asgi_server, off_loop, page  # noqa: F401
from tests.customers.test_customer_list import people  # noqa: F401 (fixture)
from tests.factories import PASSWORD, membership_create

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.django_db(transaction=True),
]


def test_an_agent_finds_a_customer_by_phone_on_a_phone(org_a, people, asgi_server, page):  # noqa: F811
    from playwright.sync_api import expect

    agent = off_loop(membership_create, org_a, Role.COMMUNITY_MANAGER, username="list.agent")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{asgi_server.url}{reverse('login')}?next={reverse('customers:list')}")
    page.get_by_label("Username").fill(agent.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    rows = page.locator("#customer-rows tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Rui Recent")
    expect(rows.last).to_contain_text("Nadia Never")
    expect(rows.last).to_contain_text("never")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_label("Name, handle, email or phone").fill("+34 600 12 34")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Rui Recent")
    page.get_by_label("Name, handle, email or phone").fill("")
    page.get_by_label("Value from").fill("1000")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(2)
    expect(rows.last).to_contain_text("Nadia Never")
