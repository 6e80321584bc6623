"""An alert is told by email (received by a real SMTP server) and by signed webhook (received by a real
HTTP server), sent by a real Celery worker once the alert is committed."""

import time

import pytest

from apps.alerts.models import AlertRule
from apps.alerts.services import alert_rules_evaluate
from apps.webhooks import services as webhooks
from apps.webhooks.models import WebhookDelivery
from apps.webhooks.signing import verify_signature
from tests.fakes.http import FakeHTTPServer, Response
from tests.fakes.mailserver import SMTPServer

from .conftest import NOW

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def receiver():
    server = FakeHTTPServer()
    server.route("POST", "/hooks", lambda request: Response(200, "ok"))
    with server:
        yield server


@pytest.fixture
def worker_env(monkeypatch, settings, smtp):
    # The worker is another process: it reads these from the environment.
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", str(smtp.port))
    monkeypatch.setenv("CXM_ALLOW_PRIVATE_DESTINATIONS", "1")
    settings.CXM_ALLOW_PRIVATE_DESTINATIONS = True


def wait_until(check, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_an_alert_is_emailed_and_sent_to_the_webhook(
    worker_env, celery_worker, smtp, receiver, traffic, make_rule, admin_a, org_a
):
    _, secret = webhooks.endpoint_create(
        organization=org_a, url=f"{receiver.url}/hooks", events=["alert.raised"], actor=admin_a.user
    )
    rule = make_rule(
        kind=AlertRule.Kind.VOLUME_ANOMALY,
        name="Volume spike",
        email_recipients=["ops@example.com", "cx@example.com"],
        notify_webhook=True,
    )
    traffic.steady(per_hour=3)
    traffic.burst(start=NOW.replace(minute=0), end=NOW, count=40, text="Checkout fails")

    assert alert_rules_evaluate(now=NOW) == 1
    alert = rule.alerts.get()

    wait_until(lambda: len(smtp.messages) == 2 and len(receiver.requests) == 1)
    assert sorted(rcpt for mail in smtp.messages for rcpt in mail.rcpt_tos) == [
        "cx@example.com",
        "ops@example.com",
    ]
    mail = smtp.messages[0].message
    assert mail["Subject"].startswith("[CXM alert] Volume spike") and "40 messages" in mail["Subject"]
    body = mail.get_content()
    assert f"/alerts/{alert.pk}/" in body and "Checkout fails" in body
    request = receiver.requests[0]
    assert verify_signature(secret, request.headers["x-cxm-signature"], request.body)
    event = request.json()
    assert event["event"] == "alert.raised" and event["data"]["alert"] == alert.pk
    assert event["data"]["observed"] == 40 and event["data"]["sample_message_ids"] == alert.sample_message_ids
    wait_until(lambda: WebhookDelivery.objects.get().status == "succeeded")

    # The spike goes on: no second email, no second webhook.
    assert alert_rules_evaluate(now=NOW.replace(minute=55)) == 0
    time.sleep(1)
    assert len(smtp.messages) == 2 and len(receiver.requests) == 1
