"""A real Celery worker delivers published events to the receiver, retrying a 500."""

import time

import pytest
from django.db import transaction

from apps.webhooks import services
from apps.webhooks.models import WebhookDelivery
from apps.webhooks.signing import verify_signature
from tests.fakes.http import Response

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_env(monkeypatch):
    # The worker is another process: it reads its settings from the environment.
    monkeypatch.setenv("CXM_ALLOW_PRIVATE_DESTINATIONS", "1")
    monkeypatch.setenv("CXM_WEBHOOKS_RETRY_BASE_SECONDS", "0.5")


def wait_for(delivery: WebhookDelivery, status: str, timeout: float = 30) -> WebhookDelivery:
    deadline = time.monotonic() + timeout
    while True:
        delivery.refresh_from_db()
        if delivery.status == status:
            return delivery
        assert time.monotonic() < deadline, (
            f"still {delivery.status} after {delivery.attempts}: {delivery.error}"
        )
        time.sleep(0.2)


def test_the_worker_delivers_after_commit_and_retries_a_500(
    worker_env, celery_worker, endpoint_and_secret, org_a, receiver
):
    endpoint, secret = endpoint_and_secret
    receiver.answers = [Response(500, "try later")]

    with transaction.atomic():
        services.event_publish(organization_id=org_a.pk, event="alert.raised", payload={"alert": 1})

    delivery = wait_for(WebhookDelivery.objects.get(), "succeeded")
    assert delivery.attempts == 2 and len(receiver.requests) == 2
    assert all(verify_signature(secret, r.headers["x-cxm-signature"], r.body) for r in receiver.requests)
