import pytest
from django.db import connection

from apps.core import health
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def test_health_without_a_worker_is_degraded_and_says_why(client, monkeypatch):
    monkeypatch.setattr(
        health,
        "CHECKS",
        {
            **health.CHECKS,
            "worker": lambda: (_ for _ in ()).throw(
                RuntimeError("no Celery worker answered a ping within 1 s")
            ),
        },
    )
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"]["error"].startswith("RuntimeError: no Celery worker")
    assert response.json()["checks"]["database"]["ok"] is True


def test_missing_models_make_health_degraded(client, settings, tmp_path):
    settings.CLASSIFIER_DEFAULTS_DIR = str(tmp_path)
    response = client.get("/health/")
    assert response.status_code == 503
    assert "missing default models" in response.json()["checks"]["classifier"]["error"]


def test_liveness_answers_without_checks(client):
    assert client.get("/health/?live=1").json() == {"status": "ok"}


def test_requests_carry_a_request_id(client):
    response = client.get("/health/?live=1", HTTP_X_REQUEST_ID="abc123")
    assert response["X-Request-ID"] == "abc123"


def test_channel_credentials_are_encrypted_at_rest(db):
    channel = ChannelFactory(credentials={"access_token": "EAAG-very-secret-token"})
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM connectors_channel WHERE id = %s", [channel.pk])
        (stored,) = cursor.fetchone()
    assert "very-secret" not in stored
    channel.refresh_from_db()
    assert channel.credentials == {"access_token": "EAAG-very-secret-token"}
