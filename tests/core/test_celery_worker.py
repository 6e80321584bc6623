"""Tasks really run on a Celery worker process, through the real Redis broker."""

import time

import pytest
from django.core.cache import cache
from django.test import Client

from apps.core.prerequisites import MIN_POSTGRES_MAJOR
from apps.core.tasks import HEARTBEAT_KEY, echo_task, heartbeat_task

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_task_round_trip_through_a_worker_process(celery_worker):
    result = echo_task.delay({"hello": "worker", "n": 3})
    assert result.get(timeout=30) == {"hello": "worker", "n": 3}


def test_worker_writes_to_the_shared_redis(celery_worker):
    cache.delete(HEARTBEAT_KEY)
    heartbeat_task.delay()  # fire and forget, as beat sends it: no result to wait on
    deadline = time.monotonic() + 30
    while cache.get(HEARTBEAT_KEY) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cache.get(HEARTBEAT_KEY)


def test_health_reports_every_component_up(celery_worker):
    response = Client().get("/health/")
    report = response.json()
    assert response.status_code == 200, report
    assert {name for name, check in report["checks"].items() if check["ok"]} == {
        "database",
        "redis",
        "worker",
        "search",
        "classifier",
    }
    assert report["checks"]["classifier"]["waiting"] == 0
    assert {"vector", "pg_trgm", "unaccent"} <= set(report["checks"]["database"]["extensions"])
    # Any supported PostgreSQL: the embedded 18, or the one DATABASE_URL names (15 or later).
    assert int(report["checks"]["database"]["version"].split(".")[0]) >= MIN_POSTGRES_MAJOR
