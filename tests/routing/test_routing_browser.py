"""Routing in a real browser under the strict CSP: the settings page at desktop and phone widths, and the
header's availability control, idle making the agent away and activity bringing them back."""

from urllib.parse import urlsplit

import pytest

from apps.accounts.models import Role
from apps.routing.models import AgentProfile, BusinessHours, SLAPolicy
from tests.connectors.livechat.test_widget_browser import CHROMIUM, off_loop
from tests.factories import PASSWORD, TeamFactory, membership_create

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.django_db(transaction=True),
]


def _log_in(page, server, user, target):
    page.goto(f"{server.url}/login/?next={target}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(lambda address: urlsplit(address).path == target)


def _world(org, brand):
    admin = membership_create(org, Role.ADMIN, username="routing.admin")
    agent = membership_create(org, Role.COMMUNITY_MANAGER, username="routing.agent.with.a.long.name")
    team = TeamFactory(organization=org, name="Customer care, second line, evenings and weekends")
    team.members.add(agent.user)
    AgentProfile.objects.create(organization=org, membership=agent, user=agent.user, languages=["en", "fr"])
    hours = BusinessHours.objects.create(
        organization=org,
        brand=brand,
        name="Paris office",
        timezone="Europe/Paris",
        weekly={d: [["09:00", "12:30"], ["13:30", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    )
    SLAPolicy.objects.create(
        organization=org,
        brand=brand,
        name="Live chat urgent",
        channel_kind="livechat",
        priority_level="urgent",
        first_response_minutes=5,
        next_response_minutes=10,
        resolution_minutes=240,
        business_hours=hours,
    )
    return admin, agent


def test_the_settings_page_fits_a_desktop_and_a_phone(asgi_server, org_a, brand_a, page):
    admin, _ = off_loop(_world, org_a, brand_a)
    _log_in(page, asgi_server, admin.user, "/org/routing/")
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        culprits = page.evaluate(
            """() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >
                window.innerWidth + 1).slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' '
                + Math.round(e.getBoundingClientRect().right))"""
        )
        assert overflow <= 0, f"{overflow} px of horizontal scroll at {width} px: {culprits}"
    page.get_by_role("link", name="SLA met %").click()
    page.wait_for_url(lambda address: urlsplit(address).path == "/org/routing/sla/")
    page.set_viewport_size({"width": 390, "height": 900})
    assert page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_the_header_control_sets_availability_and_idle_makes_the_agent_away(
    asgi_server, org_a, brand_a, page
):
    from playwright.sync_api import expect

    _, agent = off_loop(_world, org_a, brand_a)
    _log_in(page, asgi_server, agent.user, "/inbox/")
    control = page.get_by_label("Availability")
    expect(control).to_have_value("offline")
    control.select_option("online")
    expect(page.locator("#availability")).to_have_attribute("data-status", "online")
    assert off_loop(lambda: AgentProfile.objects.get(user=agent.user).status) == "online"

    # Idle for the control's idle time (shortened here from minutes to a second): away, marked as idle
    page.evaluate("() => { document.getElementById('availability').dataset.idleMinutes = '0.02'; }")
    page.keyboard.press("Shift")
    expect(page.locator("#availability")).to_have_attribute("data-status", "away", timeout=10_000)
    assert off_loop(lambda: AgentProfile.objects.get(user=agent.user).auto_away) is True
    # The next input brings them back online
    page.mouse.move(200, 300)
    page.mouse.move(220, 320)
    expect(page.locator("#availability")).to_have_attribute("data-status", "online", timeout=10_000)
    assert off_loop(lambda: AgentProfile.objects.get(user=agent.user).status) == "online"
