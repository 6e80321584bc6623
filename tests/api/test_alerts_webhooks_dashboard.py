"""Alerts, webhook endpoints and their delivery log, and the dashboards' figures through the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.analytics.services import rollups_rebuild
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint

from .conftest import ids

pytestmark = pytest.mark.django_db


def test_every_member_reads_alerts_and_the_inbox_roles_act_on_them(world, api):
    alert = world["a"]["alert"]
    assert ids(api(world["marketer"]).get("/api/v1/alerts/")) == {alert.pk, world["a2"]["alert"].pk}
    assert ids(api(world["agent"]).get("/api/v1/alerts/", {"brand": world["a2"]["brand"].pk})) == {
        world["a2"]["alert"].pk
    }
    assert api(world["marketer"]).post(f"/api/v1/alerts/{alert.pk}/acknowledge/").status_code == 403
    acknowledged = api(world["agent"]).post(f"/api/v1/alerts/{alert.pk}/acknowledge/").json()
    assert (
        acknowledged["status"] == "acknowledged" and acknowledged["acknowledged_by"] == world["agent"].user_id
    )
    resolved = api(world["agent"]).post(f"/api/v1/alerts/{alert.pk}/resolve/").json()
    assert resolved["status"] == "resolved"
    assert ids(api(world["agent"]).get("/api/v1/alerts/", {"status": "open"})) == {world["a2"]["alert"].pk}


def test_admins_write_alert_rules_through_the_rules_service_and_every_member_reads_them(world, api):
    from apps.alerts.models import AlertRule
    from apps.core.models import AuditEvent

    brand = world["a"]["brand"]
    rule = {"brand": brand.pk, "name": "Crisis", "kind": "negative_share_threshold", "threshold": 40}
    assert api(world["agent"]).post("/api/v1/alert-rules/", rule, format="json").status_code == 403
    client = api(world["admin"])
    created = client.post(
        "/api/v1/alert-rules/",
        {**rule, "email_recipients": ["pr@example.com"], "notify_members": [world["agent"].user_id]},
        format="json",
    )
    assert created.status_code == 201, created.content
    saved = AlertRule.objects.get(pk=created.json()["id"])
    assert (saved.brand, saved.threshold, saved.email_recipients) == (brand, 40, ["pr@example.com"])
    assert list(saved.notify_members.all()) == [world["agent"].user]
    assert AuditEvent.objects.filter(action="alert_rule.created", target_id=str(saved.pk)).exists()
    assert saved.pk in ids(api(world["marketer"]).get("/api/v1/alert-rules/", {"brand": brand.pk}))

    refused = client.patch(f"/api/v1/alert-rules/{saved.pk}/", {"threshold": 140}, format="json")
    assert refused.status_code == 400 and "percentage" in refused.json()["detail"]
    other_tenants_brand = world["b"]["brand"].pk
    moved = client.patch(f"/api/v1/alert-rules/{saved.pk}/", {"brand": other_tenants_brand}, format="json")
    assert moved.status_code == 400 and AlertRule.objects.get(pk=saved.pk).brand == brand
    assert (
        client.patch(f"/api/v1/alert-rules/{saved.pk}/", {"active": False}, format="json").json()["active"]
        is False
    )


def test_webhook_endpoints_are_for_admins_and_never_show_the_secret(world, api):
    endpoint = world["a"]["endpoint"]
    assert api(world["agent"]).get("/api/v1/webhook-endpoints/").status_code == 403
    client = api(world["admin"])
    listed = client.get("/api/v1/webhook-endpoints/")
    assert ids(listed) == {endpoint.pk, world["a2"]["endpoint"].pk}
    detail = client.get(f"/api/v1/webhook-endpoints/{endpoint.pk}/")
    for response in (listed, detail):
        assert "signing-secret" not in response.content.decode() and "credentials" not in response.json()


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(world, api, settings):
    settings.CXM_ALLOW_PRIVATE_DESTINATIONS = True  # no DNS lookup of the example host in tests
    client = api(world["admin"])
    created = client.post(
        "/api/v1/webhook-endpoints/",
        {"url": "https://crm.example/hooks", "events": ["note.created", "reply.sent"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    endpoint = WebhookEndpoint.objects.get(pk=created.json()["id"])
    assert secret.startswith("whsec_") and endpoint.secret == secret
    assert "secret" not in client.get(f"/api/v1/webhook-endpoints/{endpoint.pk}/").json()

    paused = client.patch(f"/api/v1/webhook-endpoints/{endpoint.pk}/", {"active": False}, format="json")
    assert paused.json()["active"] is False and paused.json()["url"] == "https://crm.example/hooks"
    rotated = client.post(f"/api/v1/webhook-endpoints/{endpoint.pk}/rotate-secret/").json()["secret"]
    endpoint.refresh_from_db()
    assert rotated != secret and endpoint.secret == rotated

    ping = client.post(f"/api/v1/webhook-endpoints/{endpoint.pk}/test/")
    assert ping.status_code == 201 and ping.json()["event"] == "ping"


def test_an_endpoint_the_service_refuses_is_a_400_with_the_reason(world, api, settings):
    settings.CXM_ALLOW_PRIVATE_DESTINATIONS = False  # as in production (tests allow it for their fakes)
    client = api(world["admin"])
    private = client.post(
        "/api/v1/webhook-endpoints/", {"url": "http://127.0.0.1:8000/x", "events": ["ping"]}, format="json"
    )
    assert private.status_code == 400  # "ping" is not subscribable
    loopback = client.post(
        "/api/v1/webhook-endpoints/",
        {"url": "http://127.0.0.1:8000/x", "events": ["reply.sent"]},
        format="json",
    )
    assert loopback.status_code == 400 and "private" in loopback.json()["detail"]


def test_the_delivery_log_and_redelivery(world, api):
    delivery = world["a"]["delivery"]
    client = api(world["admin"])
    assert ids(client.get("/api/v1/webhook-deliveries/", {"endpoint": world["a"]["endpoint"].pk})) == {
        delivery.pk
    }
    again = client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/redeliver/")
    assert again.status_code == 201 and again.json()["redelivery_of"] == delivery.pk
    assert WebhookDelivery.objects.filter(redelivery_of=delivery).count() == 1
    assert api(world["agent"]).get("/api/v1/webhook-deliveries/").status_code == 403


def test_the_dashboard_figures_come_from_the_rollups(world, api, org_a):
    rollups_rebuild(organization_id=org_a.pk)
    client = api(world["marketer"])
    today = timezone.now().date()
    brand = world["a"]["brand"]
    body = client.get("/api/v1/dashboard/", {"brand": brand.pk, "since": today - timedelta(days=1)}).json()
    assert body["volume_total"] == 1 and body["hourly"] is True
    assert sum(point["messages"] for point in body["volume_over_time"]) == 1
    assert {"label": "complaint", "messages": 1} in body["intents"]
    assert [c["channel_id"] for c in body["channels"]] == [world["a"]["channel"].pk]
    assert {"label": "order", "messages": 1} in body["top_terms"]


def test_the_dashboard_refuses_what_it_cannot_show(world, api):
    client = api(world["marketer"])
    brand = world["a"]["brand"].pk
    assert client.get("/api/v1/dashboard/").status_code == 400  # one brand at a time
    assert client.get("/api/v1/dashboard/", {"brand": world["b"]["brand"].pk}).status_code == 404
    assert (
        client.get("/api/v1/dashboard/", {"brand": brand, "channel": world["b"]["channel"].pk}).status_code
        == 404
    )
    too_long = client.get(
        "/api/v1/dashboard/", {"brand": brand, "since": "2001-01-01", "until": "2026-01-01"}
    )
    assert too_long.status_code == 400
    backwards = client.get(
        "/api/v1/dashboard/", {"brand": brand, "since": "2026-01-02", "until": "2026-01-01"}
    )
    assert backwards.status_code == 400
    limited = api(world["limited"])  # brand A2 only
    assert limited.get("/api/v1/dashboard/", {"brand": brand}).status_code == 404
