"""Publishing events and delivering them to a real HTTP receiver on 127.0.0.1: signed, retried with
back-off (honouring Retry-After), given up after N attempts, every attempt in the delivery log."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import Role
from apps.webhooks import services
from apps.webhooks.models import WebhookDelivery
from apps.webhooks.signing import verify_signature
from tests.factories import OrganizationFactory, membership_create
from tests.fakes.http import Response
from tests.fakes.mailserver import free_port

pytestmark = pytest.mark.django_db


def publish(organization, event="alert.raised", payload=None):
    services.event_publish(organization_id=organization.pk, event=event, payload=payload or {"n": 1})


def attempt(delivery, *, after: timedelta = timedelta(0)):
    """One attempt as the worker makes it, at the delivery's due time (plus `after`)."""
    delivery.refresh_from_db()
    return services.delivery_attempt(
        delivery_id=delivery.pk, now=(delivery.next_attempt_at or timezone.now()) + after
    )


def test_an_event_is_recorded_once_per_active_endpoint_subscribed_to_it(org_a, org_admin, receiver, endpoint):
    services.endpoint_create(
        organization=org_a, url=receiver.hook_url, events=["reply.sent"], actor=org_admin.user
    )
    paused, _ = services.endpoint_create(
        organization=org_a, url=receiver.hook_url, events=["alert.raised"], actor=org_admin.user
    )
    services.endpoint_set_active(endpoint=paused, active=False, actor=org_admin.user)
    other_org = OrganizationFactory()
    services.endpoint_create(
        organization=other_org, url=receiver.hook_url, events=["alert.raised"], actor=org_admin.user
    )

    publish(org_a, payload={"alert": 7})

    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint, delivery.event, delivery.payload) == (endpoint, "alert.raised", {"alert": 7})
    assert delivery.status == "pending" and delivery.attempts == 0


def test_nothing_is_recorded_when_no_endpoint_listens(org_a):
    publish(org_a)

    assert not WebhookDelivery.objects.exists()


def test_a_delivery_posts_signed_json_with_the_event_id(endpoint_and_secret, receiver, org_a):
    endpoint, secret = endpoint_and_secret
    publish(org_a, payload={"alert": 7})
    delivery = WebhookDelivery.objects.get()

    assert attempt(delivery) is None

    request = receiver.requests[0]
    body = request.json()
    assert verify_signature(secret, request.headers["x-cxm-signature"], request.body)
    assert request.headers["x-cxm-event-id"] == str(delivery.uuid) == body["id"]
    assert request.headers["x-cxm-event"] == "alert.raised"
    assert request.headers["content-type"] == "application/json"
    assert body["data"] == {"alert": 7} and body["organization"] == org_a.pk
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 1, 200)
    assert json.loads(delivery.response_body) == {"ok": True}


def test_a_500_is_retried_with_growing_back_off_until_it_succeeds(endpoint_and_secret, receiver, org_a):
    endpoint, secret = endpoint_and_secret
    receiver.answers = [Response(500, "boom"), Response(502, "bad gateway")]
    publish(org_a)
    delivery = WebhookDelivery.objects.get()

    first = attempt(delivery)
    delivery.refresh_from_db()
    assert first == 30 and delivery.status == "pending"
    assert (delivery.response_status, delivery.response_body, delivery.error) == (500, "boom", "HTTP 500")
    # Not due yet: a worker that comes early sends nothing.
    assert attempt(delivery, after=timedelta(seconds=-1)) is None and len(receiver.requests) == 1
    second = attempt(delivery)
    third = attempt(delivery)

    delivery.refresh_from_db()
    assert (second, third) == (60, None)
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("succeeded", 3, 200)
    assert delivery.error == "" and delivery.next_attempt_at is None
    # Every retry is the same event, signed again.
    assert len({r.headers["x-cxm-event-id"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    assert all(verify_signature(secret, r.headers["x-cxm-signature"], r.body) for r in receiver.requests)


def test_a_429_waits_as_long_as_its_retry_after_asks(endpoint, receiver, org_a):
    receiver.answers = [Response(429, "slow down", {"Retry-After": "120"})]
    publish(org_a)
    delivery = WebhookDelivery.objects.get()
    due = delivery.next_attempt_at

    assert attempt(delivery) == 120
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == due + timedelta(seconds=120)
    assert attempt(delivery, after=timedelta(seconds=-5)) is None and len(receiver.requests) == 1
    assert attempt(delivery) is None
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and len(receiver.requests) == 2


def test_a_4xx_is_not_retried(endpoint, receiver, org_a):
    receiver.answers = [Response(410, "gone")]
    publish(org_a)
    delivery = WebhookDelivery.objects.get()

    assert attempt(delivery) is None

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 1, 410)
    assert delivery.next_attempt_at is None
    assert attempt(delivery) is None
    assert len(receiver.requests) == 1


def test_a_network_error_is_retried_and_gives_up_after_the_last_attempt(settings, org_a, org_admin):
    settings.WEBHOOKS_MAX_ATTEMPTS = 3
    services.endpoint_create(
        organization=org_a,
        url=f"http://127.0.0.1:{free_port()}/hooks",
        events=["note.created"],
        actor=org_admin.user,
    )
    publish(org_a, event="note.created")
    delivery = WebhookDelivery.objects.get()

    delays = [attempt(delivery), attempt(delivery), attempt(delivery)]

    delivery.refresh_from_db()
    assert delays == [30, 60, None]
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 3, None)
    assert delivery.error.startswith("gave up after 3 attempts: ConnectError")


def test_redeliver_sends_the_same_event_again_as_a_new_delivery(endpoint, receiver, org_a, org_admin):
    receiver.answers = [Response(400, "no")]
    publish(org_a, payload={"alert": 9})
    failed = WebhookDelivery.objects.get()
    attempt(failed)

    again = services.delivery_redeliver(delivery=failed, actor=org_admin.user)
    attempt(again)

    failed.refresh_from_db()
    again.refresh_from_db()
    assert (failed.status, again.status) == ("failed", "succeeded")
    assert again.redelivery_of == failed and again.payload == {"alert": 9} and again.uuid != failed.uuid
    assert [r.json()["id"] for r in receiver.requests] == [str(failed.uuid), str(again.uuid)]


def test_a_paused_endpoint_receives_nothing_more(endpoint, receiver, org_a, org_admin):
    publish(org_a)
    services.endpoint_set_active(endpoint=endpoint, active=False, actor=org_admin.user)

    attempt(WebhookDelivery.objects.get())
    publish(org_a)

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.error == "the endpoint is paused"
    assert receiver.requests == []


def test_overdue_deliveries_are_found_by_the_sweep(endpoint, org_a):
    publish(org_a)
    delivery = WebhookDelivery.objects.get()

    assert services.deliveries_due(now=timezone.now()) == []
    assert services.deliveries_due(now=timezone.now() + timedelta(minutes=2)) == [delivery.pk]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://localhost/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.10/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
    ],
)
def test_private_and_loopback_urls_are_refused_in_production(settings, org_a, url):
    settings.CXM_ALLOW_PRIVATE_DESTINATIONS = False
    admin = membership_create(org_a, role=Role.ADMIN)

    with pytest.raises(services.EndpointRefused, match="private, loopback or reserved"):
        services.endpoint_create(organization=org_a, url=url, events=["alert.raised"], actor=admin.user)


def test_a_private_url_saved_earlier_is_refused_at_send_time(settings, endpoint, receiver, org_a):
    publish(org_a)
    settings.CXM_ALLOW_PRIVATE_DESTINATIONS = False

    attempt(WebhookDelivery.objects.get())

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and delivery.error.startswith("refused: the host 127.0.0.1")
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("url", "events", "problem"),
    [
        ("ftp://example.com/x", ["alert.raised"], "http:// or https://"),
        ("not a url", ["alert.raised"], "http:// or https://"),
        ("https://example.com/x", [], "at least one event"),
        ("https://example.com/x", ["alert.raised", "everything"], "unknown event: everything"),
    ],
)
def test_bad_endpoint_settings_get_a_clear_error(org_a, org_admin, url, events, problem):
    with pytest.raises(services.EndpointRefused, match=problem):
        services.endpoint_create(organization=org_a, url=url, events=events, actor=org_admin.user)


def test_the_secret_is_stored_encrypted(endpoint_and_secret):
    from django.db import connection

    endpoint, secret = endpoint_and_secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM webhooks_webhookendpoint WHERE id = %s", [endpoint.pk])
        stored = cursor.fetchone()[0]
    assert secret.startswith("whsec_") and secret not in stored
    endpoint.refresh_from_db()
    assert endpoint.secret == secret
