"""The dashboards page in a real browser on the real ASGI server: the charts draw, and a click on a bar
opens the matching inbox view."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.analytics.tasks import refresh_rollups_task
from tests.connectors.livechat.test_widget_browser import CHROMIUM, ROOT, off_loop
from tests.factories import PASSWORD, membership_create

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.django_db(transaction=True),
]


def test_the_charts_draw_and_a_bar_drills_down_into_the_inbox(world, asgi_server, page):
    from playwright.sync_api import expect

    agent = off_loop(membership_create, world["org"], Role.COMMUNITY_MANAGER, username="dash.agent")
    off_loop(refresh_rollups_task)
    dashboard = f"{reverse('analytics:dashboard')}?brand={world['brand'].pk}&range=30d"
    page.goto(f"{asgi_server.url}{reverse('login')}?next={dashboard}")
    page.get_by_label("Username").fill(agent.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("body[data-charts-ready='true']")).to_have_count(1)
    canvases = page.locator("canvas[data-chart]")
    expect(canvases).to_have_count(6)
    assert page.evaluate("[...document.querySelectorAll('canvas[data-chart]')].every((c) => c.chart)")
    expect(page.locator("main")).not_to_contain_text("{#")  # no template comment leaks onto the page
    page.wait_for_load_state("networkidle")  # the panels (terms, authors, response times) have come in
    page.wait_for_timeout(1200)  # and Chart.js has finished drawing
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    page.screenshot(path=str(ROOT / "test-artifacts" / "dashboard.png"), full_page=True)

    # Click the middle of the first bar of the channels chart.
    page.locator("#chart-channels").scroll_into_view_if_needed()
    box = page.locator("#chart-channels").bounding_box()
    point = page.evaluate(
        "(() => { const bar = document.getElementById('chart-channels').chart.getDatasetMeta(0).data[0];"
        " return {x: bar.x, y: (bar.y + bar.base) / 2}; })()"
    )
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_url(lambda address: urlsplit(address).path == reverse("inbox:index"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["brand"] == [str(world["brand"].pk)] and "channel" in query
    expect(page.locator("#inbox-results")).to_be_visible()


def test_a_marketer_follows_a_bar_into_read_only_conversations(world, asgi_server, page):
    from playwright.sync_api import expect

    off_loop(refresh_rollups_task)
    dashboard = f"{reverse('analytics:dashboard')}?brand={world['brand'].pk}&range=30d"
    page.goto(f"{asgi_server.url}{reverse('login')}?next={dashboard}")
    page.get_by_label("Username").fill(world["marketer"].user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("body[data-charts-ready='true']")).to_have_count(1)
    page.locator("#chart-channels").scroll_into_view_if_needed()
    box = page.locator("#chart-channels").bounding_box()
    point = page.evaluate(
        "(() => { const bar = document.getElementById('chart-channels').chart.getDatasetMeta(0).data[0];"
        " return {x: bar.x, y: (bar.y + bar.base) / 2}; })()"
    )
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    # Not the bare 403 of the inbox: the same conversations, read-only.
    page.wait_for_url(lambda address: urlsplit(address).path == reverse("reader:conversations"))
    assert "channel" in parse_qs(urlsplit(page.url).query)
    first = page.locator("#reader-results li.card a").first
    expect(first).to_be_visible()
    first.click()
    expect(page.locator(".reader-thread .msg").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("read-only")
    expect(page.locator("main textarea, main form[method=post]")).to_have_count(0)
