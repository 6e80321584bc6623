"""Ingestion workers as they run: their database connections outlive each task."""

import json
import time

import pytest
from django.db import connection

from apps.conversations.models import Message
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_receive
from tests.ingestion.conftest import message

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _client_backends() -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return {pid for (pid,) in cursor.fetchall()}


def _ingest(channel, n: int) -> None:
    payload_receive(channel=channel, source=RawPayload.Source.WEBHOOK, body=json.dumps(message(n)).encode())
    deadline = time.monotonic() + 30
    while not Message.objects.filter(external_id=f"m-{n}").exists():
        assert time.monotonic() < deadline, "the worker did not process the payload"
        time.sleep(0.05)


def test_a_worker_keeps_its_database_connections_between_tasks(webhook_channel, celery_worker):
    # A new connection per task is a new PostgreSQL server process with cold caches: Celery's Django
    # fixup closed the pool after every task until settings.CELERY_DB_REUSE_MAX.
    _ingest(webhook_channel, 1)
    backends = _client_backends()
    for n in range(2, 6):
        _ingest(webhook_channel, n)
    assert backends and _client_backends() == backends
