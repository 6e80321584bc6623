"""The alert pages: the list, an alert with its chart data, samples and inbox link, acknowledge/resolve,
the rules; each organisation sees only its own."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.alerts.models import Alert, AlertRule
from apps.alerts.services import alert_rules_evaluate
from tests.factories import BrandFactory, membership_create

from .conftest import NOW

pytestmark = pytest.mark.django_db

HOUR_START = NOW.replace(minute=0)


@pytest.fixture
def alert(traffic, make_rule):
    make_rule(name="Volume spike")
    traffic.steady(per_hour=3)
    traffic.burst(start=HOUR_START, end=NOW, count=40, text="Outage again", priority=90)
    alert_rules_evaluate(now=NOW)
    return Alert.objects.get()


def chart_data(html: str) -> dict:
    start = html.index('<script id="alert-chart-data" type="application/json">')
    payload = html[start:].split(">", 1)[1].split("</script>", 1)[0]
    return json.loads(payload)


def test_the_alert_page_shows_the_chart_the_samples_and_the_inbox_link(alert, org_a, login):
    client = login(membership_create(org_a, role=Role.COMMUNITY_MANAGER))

    response = client.get(reverse("alerts:detail", args=[alert.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "chart.umd.min.js" in html and "alerts/alert_chart.js" in html
    chart = chart_data(html)
    spike_label = HOUR_START.strftime("%a %d %H:00")
    spike = chart["labels"].index(spike_label)
    assert chart["observed"][spike] == 40 and chart["median"][spike] == 3
    assert chart["high"][spike] > chart["median"][spike] >= chart["low"][spike]
    assert chart["observed"][spike - 1] == 3 and len(chart["labels"]) >= 49
    assert html.count('id="sample-') == 10 and "Outage again" in html
    sample = alert.sample_message_ids[0]
    conversation_id = alert.brand.conversations.filter(messages=sample).get().pk
    assert reverse("inbox:conversation", args=[conversation_id]) in html
    inbox_link = f"/inbox/?brand={alert.brand_id}&amp;from=2026-11-18&amp;to=2026-11-18&amp;sort=newest"
    assert inbox_link in html


def test_an_agent_acknowledges_then_resolves(alert, org_a, login):
    manager = membership_create(org_a, role=Role.COMMUNITY_MANAGER)
    client = login(manager)

    client.post(reverse("alerts:acknowledge", args=[alert.pk]))
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", manager.user)

    client.post(reverse("alerts:resolve", args=[alert.pk]))
    alert.refresh_from_db()
    assert (alert.status, alert.resolved_by) == ("resolved", manager.user)
    assert "Resolved" in client.get(reverse("alerts:list")).content.decode()


def test_a_marketer_sees_alerts_but_does_not_act_on_them(alert, org_a, login):
    client = login(membership_create(org_a, role=Role.MARKETER))

    assert f'id="alert-{alert.pk}"' in client.get(reverse("alerts:list")).content.decode()
    page = client.get(reverse("alerts:detail", args=[alert.pk])).content.decode()
    assert "Acknowledge" not in page and "/inbox/conversations/" not in page
    assert client.post(reverse("alerts:acknowledge", args=[alert.pk])).status_code == 403


def test_another_organisation_sees_no_alert_and_no_rule(alert, org_b, login):
    client = login(membership_create(org_b, role=Role.ADMIN))

    assert f'id="alert-{alert.pk}"' not in client.get(reverse("alerts:list")).content.decode()
    assert "Volume spike" not in client.get(reverse("alerts:rules")).content.decode()
    assert client.get(reverse("alerts:detail", args=[alert.pk])).status_code == 404
    assert client.post(reverse("alerts:resolve", args=[alert.pk])).status_code == 404
    assert client.get(reverse("alerts:rule_edit", args=[alert.rule_id])).status_code == 404
    alert.refresh_from_db()
    assert alert.status == "open"


def test_a_member_limited_to_another_brand_does_not_see_the_alert(alert, org_a, login):
    client = login(
        membership_create(org_a, role=Role.COMMUNITY_MANAGER, brands=[BrandFactory(organization=org_a)])
    )

    assert client.get(reverse("alerts:detail", args=[alert.pk])).status_code == 404


def test_an_admin_configures_a_rule_for_a_brand(org_a, brand_a, admin_a, login):
    client = login(admin_a)

    response = client.post(
        reverse("alerts:rule_new"),
        {
            "brand": brand_a.pk,
            "name": "Angry customers",
            "kind": "negative_share_anomaly",
            "sensitivity": "3.5",
            "window_hours": "2",
            "min_volume": "15",
            "cooldown_hours": "6",
            "notify_in_app": "on",
            "email_recipients": "ops@example.com, cx@example.com",
            "notify_webhook": "on",
            "active": "on",
        },
    )

    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.brand, rule.kind, rule.sensitivity, rule.window_hours) == (
        brand_a,
        "negative_share_anomaly",
        3.5,
        2,
    )
    assert rule.email_recipients == ["ops@example.com", "cx@example.com"] and rule.notify_webhook
    assert "Angry customers" in client.get(reverse("alerts:rules")).content.decode()


def test_a_threshold_rule_without_its_threshold_is_refused_clearly(brand_a, admin_a, login):
    response = login(admin_a).post(
        reverse("alerts:rule_new"),
        {
            "brand": brand_a.pk,
            "name": "Too many",
            "kind": "volume_threshold",
            "sensitivity": "4",
            "window_hours": "1",
            "min_volume": "10",
            "cooldown_hours": "6",
            "active": "on",
        },
    )

    assert response.status_code == 400 and not AlertRule.objects.exists()
    assert "threshold" in response.content.decode()


def test_only_admins_configure_rules(org_a, login, make_rule):
    rule = make_rule()
    client = login(membership_create(org_a, role=Role.COMMUNITY_MANAGER))

    assert client.get(reverse("alerts:rules")).status_code == 200
    assert client.get(reverse("alerts:rule_new")).status_code == 403
    assert client.post(reverse("alerts:rule_edit", args=[rule.pk]), {"name": "x"}).status_code == 403


def test_the_alert_notification_leads_to_the_alert(alert, org_a, admin_a, login):
    html = login(admin_a).get(reverse("notifications:list")).content.decode()

    assert f'href="/alerts/{alert.pk}/"' in html and "raised an alert on" in html


def test_later_evaluations_leave_the_page_as_it_was(alert):
    assert alert_rules_evaluate(now=NOW + timedelta(minutes=5)) == 0
