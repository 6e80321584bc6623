"""Automation's pages in a real browser under the strict CSP, at 1440 px and 390 px: no horizontal scroll,
no script or style the policy refuses; a rule made with the form previews its matches without a reload."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.automation.models import Rule, Survey
from tests.connectors.livechat.test_widget_browser import CHROMIUM, asgi_server, off_loop, page  # noqa: F401
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory, membership_create
from tests.inbox.test_inbox_browser import _log_in

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.django_db(transaction=True),
]


# How far the page's content reaches past the window's right edge, and the elements that do, to say what
# to fix.
OVERFLOW = """Math.max(0, ...[...document.querySelectorAll('#main *')]
  .map(e => Math.ceil(e.getBoundingClientRect().right - innerWidth)))"""
WIDEST = """[...document.querySelectorAll('#main *')]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 1).slice(0, 5)
  .map(e => e.tagName + '.' + e.className + '#' + e.id)"""


def _world(org, brand):
    admin = membership_create(org, Role.ADMIN, username="automation.admin")
    channel = ChannelFactory(brand=brand, name="A channel with a rather long name for a narrow phone screen")
    conversation = ConversationFactory(channel=channel, subject="Refund for order A-1234 that never came")
    MessageFactory(conversation=conversation, text="I want a refund for my order, it never came")
    rule = Rule.objects.create(
        organization=org,
        name="Refunds",
        trigger="message.received",
        conditions=[{"field": "text", "op": "contains", "value": "refund"}],
        actions=[{"type": "tag", "value": "refunds"}],
    )
    Survey.objects.create(
        organization=org,
        brand=brand,
        conversation=conversation,
        customer=conversation.customer,
        channel=channel,
        agent=admin.user,
        token="browser-token",
        rating=5,
        comment="Quick and kind",
    )
    return admin, rule


def test_the_automation_pages_fit_a_phone_and_the_preview_swaps_in(org_a, brand_a, asgi_server, page):  # noqa: F811
    from playwright.sync_api import expect

    admin, rule = off_loop(_world, org_a, brand_a)
    _log_in(page, asgi_server.url, admin.user.username)
    urls = [
        reverse("automation:rules"),
        reverse("automation:rule_new"),
        reverse("automation:rule_edit", args=[rule.pk]),
        reverse("automation:auto_reply_new"),
        reverse("automation:survey_settings", args=[brand_a.pk]),
        reverse("automation:satisfaction"),
    ]
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for url in urls:
            page.goto(f"{asgi_server.url}{url}")
            # (The top bar is every page's, not these pages': the content below it is checked.)
            overflow = page.evaluate(OVERFLOW)
            widest = page.evaluate(WIDEST)
            assert overflow <= 0, f"{url} scrolls sideways by {overflow} px at {width} px: {widest}"

    page.goto(f"{asgi_server.url}{reverse('automation:rule_edit', args=[rule.pk])}")
    page.get_by_role("link", name="What would this rule have matched over the last 7 days?").click()
    expect(page.locator("#rule-preview [data-matched]")).to_have_text("1")

    # The satisfaction dashboard draws its charts (CSAT week by week; by agent, team, channel, brand)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", lambda response: errors.append(response.url) if response.status >= 400 else None)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{asgi_server.url}{reverse('automation:satisfaction')}")
        page.wait_for_load_state("load")
        assert errors == []
        expect(page.locator("body")).to_have_attribute("data-charts-ready", "true")
        drawn = page.evaluate(
            "[...document.querySelectorAll('canvas[data-chart]')]"
            ".filter(c => c.chart).map(c => c.dataset.chart)"
        )
        assert drawn == ["csat", "agent", "team", "channel", "brand"]
        assert page.evaluate("document.getElementById('chart-csat').chart.data.datasets[0].data") == [100]
        assert page.evaluate(OVERFLOW) <= 0
