"""An admin adds a Telegram channel in a real browser on the real ASGI server: chooses the kind, fills the
form the connector's declared settings made, fixes what it refused, tests the connection against the
Telegram fake, and follows the webhook step."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.connectors.models import Channel
from tests.connectors.livechat.test_widget_browser import CHROMIUM, off_loop
from tests.factories import PASSWORD, membership_create
from tests.fakes.telegram import TOKEN, FakeTelegram

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.django_db(transaction=True),
]


def test_an_admin_adds_a_telegram_channel_tests_it_and_follows_the_webhook_step(asgi_server, brand_a, page):
    from playwright.sync_api import expect

    admin = off_loop(membership_create, brand_a.organization, Role.ADMIN, username="setup.admin")
    page.goto(f"{asgi_server.url}{reverse('login')}?next={reverse('connectors:list')}")
    page.get_by_label("Username").fill(admin.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    with FakeTelegram() as telegram:
        page.get_by_role("link", name="Add a channel").click()
        page.get_by_role("link", name="Telegram").click()
        expect(page.get_by_role("heading", name="New Telegram channel")).to_be_visible()
        page.get_by_label("Name").fill("Nimbus bot")
        page.get_by_role("button", name="Create the channel").click()
        # Refused with the reason beside the field; nothing stored.
        expect(page.locator("#form-errors")).to_contain_text("Some settings need a fix")
        expect(page.locator(".setting.invalid")).to_contain_text("Bot token")
        assert off_loop(Channel.objects.count) == 0

        page.get_by_label("Bot token").fill(TOKEN)
        page.locator("summary", has_text="Advanced").click()
        page.get_by_label("Bot API base URL").fill(telegram.url)
        page.get_by_role("button", name="Create the channel").click()
        expect(page.locator(".flash")).to_contain_text("Nimbus bot is set up")
        expect(page.locator("main")).not_to_contain_text(TOKEN)

        page.get_by_role("button", name="Test the connection").click()
        expect(page.locator(".flash")).to_contain_text("connected as @nimbus_support_bot")

        channel = off_loop(Channel.objects.get)
        expect(page.locator("#webhook-url")).to_contain_text(f"/hooks/{channel.webhook_token}/")
        page.get_by_role("button", name="Register the webhook with Telegram").click()
        # The test server speaks plain HTTP: Telegram refuses such a URL, and the page says why.
        expect(page.locator(".flash")).to_contain_text("An HTTPS URL must be provided for webhook")

        page.get_by_role("link", name="Settings").click()
        expect(page.get_by_label("Bot token")).to_have_value("")
        expect(page.locator("main")).to_contain_text(f"Stored (••••{TOKEN[-4:]})")
