"""The alert page in a real browser: Chart.js (from npm) draws the hourly series with its usual band."""

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.alerts.models import Alert
from apps.alerts.services import alert_rules_evaluate
from tests.connectors.livechat.test_widget_browser import CHROMIUM, ROOT, off_loop
from tests.factories import PASSWORD, membership_create

from .conftest import NOW, BrandTraffic

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium for the browser test"),
    pytest.mark.django_db(transaction=True),
]


def _alert(brand, org):
    from apps.alerts.models import AlertRule
    from apps.alerts.services import alert_rule_save

    admin = membership_create(org, Role.ADMIN, username="alert.admin")
    alert_rule_save(
        rule=AlertRule(organization=org, brand=brand, kind="volume_anomaly", name="Volume spike"),
        actor=admin.user,
    )
    traffic = BrandTraffic(brand)
    traffic.steady(per_hour=3)
    traffic.burst(start=NOW.replace(minute=0), end=NOW, count=40)
    alert_rules_evaluate(now=NOW)
    return Alert.objects.get(), admin


def test_the_alert_chart_is_drawn(asgi_server, brand_a, org_a, page):
    from playwright.sync_api import expect

    alert, admin = off_loop(_alert, brand_a, org_a)
    target = reverse("alerts:detail", args=[alert.pk])
    page.goto(f"{asgi_server.url}{reverse('login')}?next={target}")
    page.get_by_label("Username").fill(admin.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(lambda address: urlsplit(address).path == target)

    expect(page.locator("#alert-samples li")).to_have_count(10)
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('alert-chart'))")
    datasets = page.evaluate(
        "() => Chart.getChart(document.getElementById('alert-chart')).data.datasets.map(d => d.label)"
    )
    assert datasets == [
        "Observed (messages)",
        "Usual (median of previous weeks)",
        "Usual range",
        "Alarm level",
    ]
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    page.wait_for_timeout(1200)  # Chart.js draws the lines in over a second
    page.screenshot(path=str(ROOT / "test-artifacts" / "alert-page.png"), full_page=True)
    assert (
        max(
            page.evaluate(
                "() => Chart.getChart(document.getElementById('alert-chart')).data.datasets[0].data"
            )
        )
        == 40
    )
