"""Faults during ingestion: a worker killed with SIGKILL mid-batch, Redis restarted, PostgreSQL restarted.

In every case the number of stored messages equals the number sent, with no duplicates. The recovery
paths are the production ones: Celery's late acknowledgement with redelivery, task retries with back-off
on database errors, and the beat task that re-sends payloads whose task was lost.
"""

import io
import json
import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection

from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Conversation, Message
from apps.ingestion.bulk_import import ROWS_PER_PAYLOAD, import_file
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_receive, payloads_requeue_stuck
from cxm.stack.postgres import EmbeddedPostgres
from cxm.stack.redis import EmbeddedRedis
from tests.conftest import spawn_worker, stop_worker
from tests.factories import ChannelFactory
from tests.ingestion.conftest import message

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

BATCH = 200


def _send(channel, start: int, count: int) -> None:
    for n in range(start, start + count):
        payload_receive(
            channel=channel, source=RawPayload.Source.WEBHOOK, body=json.dumps(message(n)).encode()
        )


def _processed(channel) -> int:
    for _ in range(30):  # the database may be coming back up
        try:
            return RawPayload.objects.filter(channel=channel, status=RawPayload.Status.PROCESSED).count()
        except Exception:
            connection.close()
            time.sleep(0.5)
    raise AssertionError("database did not come back")


def _wait_until(predicate, timeout: float, what: str, on_tick=None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        if on_tick:
            on_tick()
        time.sleep(0.3)


def _assert_exactly_once(channel, expected: int) -> None:
    payloads = RawPayload.objects.filter(channel=channel)
    messages = Message.objects.filter(channel=channel)
    assert payloads.count() == expected
    assert not payloads.exclude(status=RawPayload.Status.PROCESSED).exists()
    assert messages.count() == expected
    assert messages.values("external_id").distinct().count() == expected


def test_worker_killed_mid_batch_loses_and_duplicates_nothing(webhook_channel):
    # Queued while no worker runs, and enough of them that a worker coalescing 100 payloads a transaction
    # is still busy when the first ones show as processed: the kill lands mid-stream.
    total = BATCH * 15
    _send(webhook_channel, 0, total)
    worker = spawn_worker(f"doomed-{os.getpid()}@localhost", concurrency=2)
    deadline = time.monotonic() + 60
    while _processed(webhook_channel) == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and its pool children, as a crash would
    worker.wait()
    assert 0 < _processed(webhook_channel) < total, "the kill did not land mid-stream"

    survivor = spawn_worker(f"survivor-{os.getpid()}@localhost")
    try:
        # The killed worker's in-flight tasks stay unacknowledged in Redis; the beat's requeue (every five
        # minutes in production, now here) sends their payloads again. Processing is idempotent.
        _wait_until(
            lambda: _processed(webhook_channel) == total,
            120,
            "all payloads",
            on_tick=lambda: payloads_requeue_stuck(older_than=timedelta(0)),
        )
    finally:
        stop_worker(survivor)
    _assert_exactly_once(webhook_channel, total)


def test_worker_killed_mid_import_loses_and_duplicates_nothing(brand_a):
    # Rows of 40 conversations interleaved: every chunk shares them with the others, so the two processes
    # wait on each other's conversations when the kill lands.
    channel = ChannelFactory(brand=brand_a, kind=ChannelKind.IMPORT)
    total = ROWS_PER_PAYLOAD * 16
    rows = "".join(json.dumps(message(n, thread_id=f"t-{n % 40}")) + "\n" for n in range(total))
    assert import_file(channel=channel, stream=io.StringIO(rows), fmt="jsonl").stored == total
    stored = Message.objects.filter(channel=channel)
    worker = spawn_worker(f"doomed-{os.getpid()}@localhost", concurrency=2)
    deadline = time.monotonic() + 60
    while not stored.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    assert 0 < stored.count() < total, "the kill did not land mid-import"

    survivor = spawn_worker(f"survivor-{os.getpid()}@localhost")
    try:
        _wait_until(
            lambda: _processed(channel) == total // ROWS_PER_PAYLOAD,
            120,
            "all chunks",
            on_tick=lambda: payloads_requeue_stuck(older_than=timedelta(0)),
        )
    finally:
        stop_worker(survivor)
    assert stored.count() == stored.values("external_id").distinct().count() == total
    assert Conversation.objects.filter(channel=channel).count() == 40
    assert (
        sorted(Conversation.objects.filter(channel=channel).values_list("message_count", flat=True))
        == [total // 40] * 40
    )


@pytest.fixture
def restartable_redis():
    """Restarts the Redis the tests were given, its queue lost, as in a crash: the embedded one, or an
    external one through the command in CXM_TEST_REDIS_RESTART (`dev.py test --external` sets it)."""
    if command := os.environ.get("CXM_TEST_REDIS_RESTART"):
        return lambda: subprocess.run(command, shell=True, check=True, capture_output=True)
    if "CXM_EMBEDDED_REDIS_PORT" not in os.environ:
        pytest.skip(
            "REDIS_URL is a server these tests cannot restart: CXM_TEST_REDIS_RESTART (a command) is unset"
        )
    port = int(os.environ["CXM_EMBEDDED_REDIS_PORT"])
    datadir = Path(os.environ["CXM_EMBEDDED_REDIS_DATADIR"])

    def restart():
        EmbeddedRedis(datadir=datadir, port=port).stop()  # SHUTDOWN: the queue is gone, as in a crash
        EmbeddedRedis(datadir=datadir, port=port, persistent=False).start()

    # The restarted server serves the rest of the session; the test stack shuts down whatever Redis
    # answers on its port when it stops.
    return restart


@pytest.fixture
def restartable_postgres():
    """Stops the PostgreSQL the tests were given immediately (no checkpoint, every connection dropped, crash
    recovery from the WAL on start) and starts it again: the embedded one, or an external one through the
    pg_ctl (or pg_ctlcluster) command in CXM_TEST_PG_CTL, to which `stop -m immediate` / `start` is added."""
    if command := os.environ.get("CXM_TEST_PG_CTL"):
        return (
            lambda: subprocess.run(
                f"{command} stop -m immediate", shell=True, check=True, capture_output=True
            ),
            lambda: subprocess.run(f"{command} start", shell=True, check=True, capture_output=True),
        )
    if "CXM_EMBEDDED_PG_DATADIR" not in os.environ:
        pytest.skip(
            "DATABASE_URL is a server these tests cannot restart: set CXM_TEST_PG_CTL to its pg_ctl command"
        )
    postgres = EmbeddedPostgres(
        datadir=Path(os.environ["CXM_EMBEDDED_PG_DATADIR"]), port=int(os.environ["CXM_EMBEDDED_PG_PORT"])
    )
    return lambda: postgres.stop("immediate"), postgres.start


def test_redis_restart_mid_stream(webhook_channel, celery_worker, restartable_redis):
    _send(webhook_channel, 0, BATCH // 2)
    restartable_redis()
    _send(webhook_channel, BATCH // 2, BATCH // 2)
    _wait_until(
        lambda: _processed(webhook_channel) == BATCH,
        120,
        "all payloads",
        on_tick=lambda: payloads_requeue_stuck(older_than=timedelta(0)),
    )
    _assert_exactly_once(webhook_channel, BATCH)


def test_postgres_restart_mid_stream(webhook_channel, celery_worker, restartable_postgres):
    stop, start = restartable_postgres
    _send(webhook_channel, 0, BATCH)
    connection.close()
    stop()
    time.sleep(2)
    start()
    _wait_until(
        lambda: _processed(webhook_channel) == BATCH,
        180,
        "all payloads",
        on_tick=lambda: payloads_requeue_stuck(older_than=timedelta(0)),
    )
    _assert_exactly_once(webhook_channel, BATCH)
