"""Tasks really run on a Celery worker process, through the real Redis broker."""

import os
import signal
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client

from apps.core.prerequisites import MIN_POSTGRES_MAJOR
from apps.core.tasks import HEARTBEAT_KEY, echo_task, heartbeat_task
from tests.conftest import spawn_worker, stop_worker, task_events

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
        "ocr",
    }
    assert report["checks"]["classifier"]["waiting"] == 0
    assert report["checks"]["ocr"]["enabled"]  # rapidocr-onnxruntime installs with the project
    assert {"vector", "pg_trgm", "unaccent"} <= set(report["checks"]["database"]["extensions"])
    # Any supported PostgreSQL: the embedded 18, or the one DATABASE_URL names (15 or later).
    assert int(report["checks"]["database"]["version"].split(".")[0]) >= MIN_POSTGRES_MAJOR


def test_killed_worker_children_are_replaced_by_ones_that_serve_tasks_within_ten_seconds():
    """Under load: tasks keep arriving while the pool's processes are killed with SIGKILL (the OOM killer, an
    operator); the replacements must be taking tasks within 10 s. Both are killed, so that any task done
    after the kill was done by a replacement."""
    worker = spawn_worker(f"kill-child-{os.getpid()}@localhost", concurrency=2, events=True)
    try:
        with task_events() as tasks:
            for n in range(500):
                echo_task.delay(n)
            children = wait_for(lambda: _children(worker.pid) if len(_children(worker.pid)) == 2 else None)
            wait_for(lambda: any("succeeded" in task["states"] for task in tasks.values()))
            for child in children:
                os.kill(child, signal.SIGKILL)
            killed_at = time.monotonic()
            # The load goes on. A task sent after the kill can only be done by a replacement (an event's
            # arrival time can't tell: the worker may still be reporting what the killed children did just
            # before).
            sent_after_the_kill = {echo_task.delay(n).id for n in range(2000)}

            def done_by_a_replacement():
                return [
                    task["at"]["succeeded"]
                    for task_id, task in list(tasks.items())
                    if task_id in sent_after_the_kill and "succeeded" in task["at"]
                ]

            first = min(wait_for(done_by_a_replacement, timeout=60))
        assert _children(worker.pid).isdisjoint(children)
        assert first - killed_at < 10, (
            f"the replacements took their first task {first - killed_at:.1f} s after"
        )
    finally:
        stop_worker(worker)


def _children(pid: int) -> set[int]:
    """The live children of `pid`: a killed child stays a zombie until its parent reaps it."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # a process that ended meanwhile
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children.add(int(stat.parent.name))
    return children


def wait_for(condition, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{condition.__name__} never held"
        time.sleep(0.05)
    return result


def test_a_worker_takes_live_work_first_then_maintenance_then_classification_then_bulk():
    """Queued before the worker starts, a backlog of classification and import tasks does not hold back a
    live message's task, nor beat's (cxm/queues.py)."""
    from apps.classification.tasks import classify_messages_task
    from apps.ingestion.tasks import process_import_chunk_task, process_payload_batch_task

    with task_events() as tasks:
        sent = []
        for _ in range(10):
            sent += [process_import_chunk_task.delay([]).id, classify_messages_task.delay([]).id]
        sent += [echo_task.delay("maintenance").id, process_payload_batch_task.delay([]).id]
        worker = spawn_worker(f"priority-{os.getpid()}@localhost", events=True)
        try:
            wait_for(lambda: all("succeeded" in tasks.get(task_id, {}).get("states", ()) for task_id in sent))
        finally:
            stop_worker(worker)
    started = sorted((tasks[task_id]["at"]["started"], tasks[task_id]["name"]) for task_id in sent)
    assert [name.rsplit(".", 1)[1] for _, name in started] == [
        "process_payload_batch_task",
        "echo_task",
        *["classify_messages_task"] * 10,
        *["process_import_chunk_task"] * 10,
    ]
