"""Faults during ingestion: a worker or a worker child killed with SIGKILL, Redis killed and restarted,
PostgreSQL killed and restarted, the stack stopped and started again, under real HTTP load.

In every case the number of stored messages equals the number sent, with no duplicates, and every payload
is processed soon after the fault ends. The recovery paths are the production ones, on their real
schedule: Celery's late acknowledgement with redelivery, task retries with back-off on database errors,
the intake's 503 while the database is down (platforms deliver again), the flush of the intake's tasks at
shutdown, and the relay in beat's process that publishes again the tasks that were lost
(apps/ingestion/relay.py).
"""

import io
import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest
from django.db import connection

from apps.connectors.kinds import ChannelKind
from apps.conversations.models import Conversation, Message
from apps.ingestion.bulk_import import ROWS_PER_PAYLOAD, import_file
from apps.ingestion.models import RawPayload
from apps.ingestion.services import payload_receive
from tests.conftest import spawn_beat, spawn_web, spawn_worker, stop_worker
from tests.factories import ChannelFactory
from tests.ingestion.conftest import message
from tests.ingestion.load import WebhookLoad

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


def _wait_until(predicate, timeout: float, what: str, on_tick=None, on_timeout=None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out waiting for {what}" + (f": {on_timeout()}" if on_timeout else "")
            )
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


@pytest.fixture
def beat(tmp_path):
    """The real beat on its real schedule, with the payload relay in its process."""
    process = spawn_beat(tmp_path / "celerybeat-schedule")
    yield process
    stop_worker(process)


def test_worker_killed_mid_batch_loses_and_duplicates_nothing(webhook_channel, beat):
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
        # The killed worker's tasks stay unacknowledged in Redis for an hour; the relay sees payloads that
        # nobody holds while the queue is empty, and publishes them again. Processing is idempotent.
        _wait_until(lambda: _processed(webhook_channel) == total, 90, "all payloads")
    finally:
        stop_worker(survivor)
    _assert_exactly_once(webhook_channel, total)


def test_worker_killed_mid_import_loses_and_duplicates_nothing(brand_a, beat):
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
        _wait_until(lambda: _processed(channel) == total // ROWS_PER_PAYLOAD, 90, "all chunks")
    finally:
        stop_worker(survivor)
    assert stored.count() == stored.values("external_id").distinct().count() == total
    assert Conversation.objects.filter(channel=channel).count() == 40
    assert (
        sorted(Conversation.objects.filter(channel=channel).values_list("message_count", flat=True))
        == [total // 40] * 40
    )


# Under HTTP load: this many signed webhooks, the fault landing after about a third of them.
LOAD = 5000
FAULT_AFTER = LOAD // 3
# Every payload is processed this long after the fault's end at most.
RECOVERY_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """The app's processes as `dev.py run` starts them (web with its lifespan, worker, beat), on the test
    database and Redis, each of which a test can stop, kill and start again."""

    def __init__(self, schedule: Path):
        self.port = _free_port()
        self.schedule = schedule
        self.web = self.worker = self.beat = None

    def start(self) -> None:
        # Classification (tasks of its own, after ingestion) is left to the classify-waiting sweep: these
        # tests are about payloads, and the CI's two cores are better spent on them.
        self.worker = spawn_worker(
            f"stack-{os.getpid()}@localhost", concurrency=2, env={"CXM_CLASSIFY_ON_ARRIVAL": "0"}
        )
        self.beat = spawn_beat(self.schedule)
        self.web = spawn_web(self.port)

    def stop(self) -> None:
        """As Ctrl-C on `dev.py run` does: SIGTERM to each, then wait."""
        for process in (self.web, self.worker, self.beat):
            if process is not None and process.poll() is None:
                process.terminate()
        for process in (self.web, self.worker, self.beat):
            if process is not None:
                stop_worker(process)

    def webhook_url(self, channel) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{channel.webhook_token}/"


@pytest.fixture
def stack(tmp_path):
    """The stack of one test: stopped before the test's data is flushed, which its workers would hold."""
    running = Stack(tmp_path / "celerybeat-schedule")
    running.start()
    yield running
    running.stop()


def _wait_processed(channel, load: WebhookLoad, fault_end: float) -> None:
    """Every acknowledged delivery processed, within RECOVERY_SECONDS of the fault's end (and of the last
    acknowledgement, for deliveries the platform made after it)."""
    load.wait(180)  # the senders' pace on a busy machine; the bound is on processing, below
    started = time.monotonic()
    _wait_until(
        lambda: _processed(channel) == LOAD,
        max(fault_end, load.last_acknowledged_at) + RECOVERY_SECONDS - time.monotonic(),
        f"all {LOAD} payloads within {RECOVERY_SECONDS} s of the fault's end",
        on_timeout=lambda: f"{_processed(channel)} processed, {load.acknowledged} acknowledged",
    )
    connection.close()
    _assert_exactly_once(channel, LOAD)
    print(
        f"load {load.acknowledged} acknowledged, {load.retried} deliveries again {load.statuses}; "
        f"all processed {time.monotonic() - fault_end:.1f} s after the fault's end "
        f"({time.monotonic() - started:.1f} s after the last acknowledgement)"
    )


def test_http_load_with_a_worker_child_killed(webhook_channel, stack):
    load = WebhookLoad(stack.webhook_url(webhook_channel), LOAD).start()
    load.wait_acknowledged(FAULT_AFTER)
    children = Path(f"/proc/{stack.worker.pid}/task/{stack.worker.pid}/children").read_text().split()
    assert children, "the worker has no pool children"
    os.kill(int(children[0]), signal.SIGKILL)
    fault_end = time.monotonic()
    _wait_processed(webhook_channel, load, fault_end)


def test_http_load_with_redis_killed_and_restarted(webhook_channel, stack, restartable_redis):
    load = WebhookLoad(stack.webhook_url(webhook_channel), LOAD).start()
    load.wait_acknowledged(FAULT_AFTER)
    restartable_redis()
    fault_end = time.monotonic()
    _wait_processed(webhook_channel, load, fault_end)


def test_http_load_with_postgres_killed_and_restarted(webhook_channel, stack, restartable_postgres):
    stop, start = restartable_postgres
    load = WebhookLoad(stack.webhook_url(webhook_channel), LOAD).start()
    load.wait_acknowledged(FAULT_AFTER)
    connection.close()
    # Immediate shutdown: no checkpoint, every connection dropped, crash recovery from the WAL on start.
    stop()
    time.sleep(3)
    start()
    fault_end = time.monotonic()
    _wait_processed(webhook_channel, load, fault_end)
    # The platform was told to deliver again while the database was down, and was never given a 500.
    assert load.statuses.get(503, 0) > 0 and not any(
        status >= 500 and status != 503 for status in load.statuses
    )


def test_http_load_with_the_stack_stopped_and_started_again(webhook_channel, stack):
    load = WebhookLoad(stack.webhook_url(webhook_channel), LOAD).start()
    load.wait_acknowledged(FAULT_AFTER)
    stack.stop()  # what was acknowledged in the last moments is published by the web's lifespan shutdown
    stack.start()
    fault_end = time.monotonic()
    _wait_processed(webhook_channel, load, fault_end)
