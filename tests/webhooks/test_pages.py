"""The admin's webhook pages (/org/webhooks/): the secret shown once, test events, the log, redelivery, and
nothing of another organisation."""

import pytest
from django.urls import reverse

from apps.accounts.models import Role
from apps.webhooks import services
from apps.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.factories import membership_create

pytestmark = pytest.mark.django_db


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(org_admin, login, receiver):
    client = login(org_admin)

    response = client.post(
        reverse("webhooks:new"),
        {"url": receiver.hook_url, "events": ["alert.raised", "reply.sent"], "description": "Pager"},
    )

    endpoint = WebhookEndpoint.objects.get()
    html = response.content.decode()
    assert response.status_code == 200
    assert endpoint.secret in html and 'id="new-secret"' in html
    assert endpoint.events == ["alert.raised", "reply.sent"] and endpoint.created_by == org_admin.user
    again = client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in again and endpoint.secret[-4:] in again


def test_a_refused_endpoint_is_explained_on_the_form(org_admin, login):
    response = login(org_admin).post(reverse("webhooks:new"), {"url": "https://example.com/x"})

    assert response.status_code == 400
    assert "choose at least one event" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_an_admin_edits_pauses_and_tests_an_endpoint(org_admin, login, endpoint, receiver):
    client = login(org_admin)

    client.post(
        reverse("webhooks:edit", args=[endpoint.pk]),
        {"url": receiver.hook_url, "events": ["message.created"], "description": "Renamed", "active": "on"},
    )
    endpoint.refresh_from_db()
    assert endpoint.events == ["message.created"] and endpoint.description == "Renamed"

    client.post(reverse("webhooks:active", args=[endpoint.pk]), {"active": "0"})
    endpoint.refresh_from_db()
    assert not endpoint.active

    client.post(reverse("webhooks:test", args=[endpoint.pk]))
    ping = WebhookDelivery.objects.get()
    assert (ping.endpoint, ping.event) == (endpoint, "ping")


def test_the_log_shows_each_delivery_and_redeliver_queues_it_again(
    org_admin, login, endpoint, receiver, org_a
):
    services.event_publish(organization_id=org_a.pk, event="alert.raised", payload={"alert": 1})
    delivery = WebhookDelivery.objects.get()
    services.delivery_attempt(delivery_id=delivery.pk)
    client = login(org_admin)

    html = client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert f'id="delivery-{delivery.pk}"' in html and "Succeeded" in html and "HTTP 200" in html
    detail = client.get(reverse("webhooks:delivery", args=[delivery.pk])).content.decode()
    assert str(delivery.uuid) in detail

    response = client.post(reverse("webhooks:redeliver", args=[delivery.pk]))
    assert response.status_code == 302
    assert WebhookDelivery.objects.filter(redelivery_of=delivery).count() == 1


def test_another_organisation_sees_no_endpoint_and_no_delivery(org_b, login, endpoint, org_a):
    services.event_publish(organization_id=org_a.pk, event="alert.raised", payload={})
    delivery = WebhookDelivery.objects.get()
    client = login(membership_create(org_b, role=Role.ADMIN))

    assert endpoint.url not in client.get(reverse("webhooks:list")).content.decode()
    for name, pk in [("detail", endpoint.pk), ("edit", endpoint.pk), ("delivery", delivery.pk)]:
        assert client.get(reverse(f"webhooks:{name}", args=[pk])).status_code == 404
    for name, pk in [("test", endpoint.pk), ("rotate", endpoint.pk), ("redeliver", delivery.pk)]:
        assert client.post(reverse(f"webhooks:{name}", args=[pk])).status_code == 404
    assert WebhookDelivery.objects.count() == 1


def test_only_admins_reach_the_webhook_pages(org_a, login, endpoint):
    client = login(membership_create(org_a, role=Role.COMMUNITY_MANAGER))

    assert client.get(reverse("webhooks:list")).status_code == 403
    assert client.get(reverse("webhooks:detail", args=[endpoint.pk])).status_code == 403
