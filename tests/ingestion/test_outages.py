"""Outages seen from outside: PostgreSQL down (webhooks and /health/ answer 503 within a second), and the
web server stopped right after answering (the intake publishes the tasks it still holds)."""

import json
import time
import urllib.error
import urllib.request

import pytest
import redis
from django.conf import settings
from django.db import connection

from apps.connectors.webhook.connector import sign
from apps.ingestion.models import RawPayload
from apps.ingestion.relay import queue_keys, task_payload_ids
from tests.conftest import spawn_web, stop_worker
from tests.ingestion.conftest import SECRET, message
from tests.ingestion.load import WebhookLoad
from tests.ingestion.test_faults import _assert_exactly_once, _free_port, _processed, _wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _timed_post(url: str, data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer_headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, body = error.code, error.headers, error.read()
    return status, answer_headers, body, time.monotonic() - started


def test_postgres_down_webhooks_and_health_answer_503_within_a_second(
    webhook_channel, celery_worker, restartable_postgres
):
    stop_postgres, start_postgres = restartable_postgres
    port = _free_port()
    web = spawn_web(port)
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/hooks/{webhook_channel.webhook_token}/"
    try:
        connection.close()
        stop_postgres()
        try:
            for n in range(5):  # the first request after the outage, then those while it is known
                body = json.dumps(message(n)).encode()
                timestamp = str(int(time.time()))
                headers = {
                    "Content-Type": "application/json",
                    "X-CXM-Timestamp": timestamp,
                    "X-CXM-Signature": sign(SECRET, timestamp, body),
                }
                status, answer_headers, answer, took = _timed_post(url, body, headers)
                assert status == 503 and took < 1.0, (status, took, answer[:300])
                assert int(answer_headers["Retry-After"]) > 0
                assert answer_headers["Content-Type"] == "application/json"
            status, _, answer, took = _timed_post(f"{base}/health/")
            assert status == 503 and took < 1.0, (status, took)
            report = json.loads(answer)
            assert not report["checks"]["database"]["ok"] and report["checks"]["redis"]["ok"]
        finally:
            start_postgres()
        # Back up: the same deliveries are taken and processed.
        for n in range(5):
            body = json.dumps(message(n)).encode()
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-CXM-Timestamp": timestamp,
                "X-CXM-Signature": sign(SECRET, timestamp, body),
            }
            deadline = time.monotonic() + 10
            while (status := _timed_post(url, body, headers)[0]) != 200 and time.monotonic() < deadline:
                time.sleep(0.3)
            assert status == 200
        _wait_until(lambda: _processed(webhook_channel) == 5, 30, "the deliveries made again")
        _assert_exactly_once(webhook_channel, 5)
    finally:
        stop_worker(web)


def _queued_payload_ids() -> set[int]:
    """The payload ids carried by the processing tasks waiting in the broker's queues."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return {
        pk for key in queue_keys() for raw in client.lrange(key, 0, -1) for pk in task_payload_ids(raw) or []
    }


def test_the_intake_publishes_what_it_holds_when_stopped(webhook_channel):
    """No worker, no relay: the deliveries acknowledged in the last moments before SIGTERM have their tasks
    published by the lifespan's shutdown (uvicorn re-raises SIGTERM after it, so no atexit would run)."""
    port = _free_port()
    web = spawn_web(port)
    load = WebhookLoad(f"http://127.0.0.1:{port}/hooks/{webhook_channel.webhook_token}/", 300).start()
    load.wait(120)
    web.terminate()  # at once after the last answer: the intake's batch still holds the last ones
    web.wait(20)
    stored = set(RawPayload.objects.filter(channel=webhook_channel).values_list("pk", flat=True))
    assert len(stored) == 300
    assert stored <= _queued_payload_ids()  # (an earlier test may have left tasks of its own)
