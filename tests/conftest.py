import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.factories import PASSWORD, BrandFactory, OrganizationFactory, membership_create

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def org_a(db):
    return OrganizationFactory(name="Org A")


@pytest.fixture
def org_b(db):
    return OrganizationFactory(name="Org B")


@pytest.fixture
def brand_a(org_a):
    return BrandFactory(organization=org_a, name="Brand A")


@pytest.fixture
def brand_b(org_b):
    return BrandFactory(organization=org_b, name="Brand B")


@pytest.fixture
def login(client):
    """Log the test client in as a membership's user."""

    def _login(membership):
        assert client.login(username=membership.user.username, password=PASSWORD)
        return client

    return _login


@pytest.fixture
def make_membership(db):
    return membership_create


def _test_database_url(database_name: str) -> str:
    from django.conf import settings

    parts = urlsplit(settings.DATABASE_URL)
    return urlunsplit(parts._replace(path=f"/{database_name}"))


def worker_env() -> dict:
    """The environment of a worker or beat process on the test database and the test Redis."""
    from django.db import connection

    env = dict(os.environ)
    env["DATABASE_URL"] = _test_database_url(connection.settings_dict["NAME"])
    env["CXM_TESTING"] = "1"
    return env


def spawn_worker(hostname: str, *, concurrency: int = 1, events: bool = False) -> subprocess.Popen:
    """Start a real Celery worker process on the test database and the test Redis; returns when it answers.
    It serves every queue, live work first, as a worker of `dev.py run` does (cxm/queues.py)."""
    from cxm.celery import app
    from cxm.queues import QUEUES_BY_PRIORITY

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cxm",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "WARNING",
            "--hostname",
            hostname,
            "--queues",
            ",".join(QUEUES_BY_PRIORITY),
            "--without-gossip",
            "--without-mingle",
            *(["--task-events"] if events else []),  # what tests/conftest.task_events() watches
        ],
        env=worker_env(),
        cwd=ROOT,
        start_new_session=True,  # its own process group: a test can kill -9 the worker and its children
    )
    deadline = time.monotonic() + 60
    while not _answers(app, hostname):
        if process.poll() is not None or time.monotonic() > deadline:
            os.killpg(process.pid, 9)
            raise RuntimeError("the Celery worker did not start")
    return process


def _answers(app, hostname: str) -> bool:
    try:
        return bool(app.control.ping(destination=[hostname], timeout=0.5))
    except Exception:  # a broker connection that a Redis restart closed: the next ping reconnects
        return False


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


@contextmanager
def task_events():
    """The task events of workers started with `events=True`, as the worker sends them, gathered on a thread:
    yields a dict of task id → {"name", "states", "at"} that fills in as events arrive ("at": when each
    state's event arrived, time.monotonic())."""
    from cxm.celery import app

    tasks: dict[str, dict] = {}

    def record(event):
        task = tasks.setdefault(event["uuid"], {"name": None, "states": [], "at": {}})
        task["name"] = event.get("name") or task["name"]
        state = event["type"].removeprefix("task-")
        task["states"].append(state)
        task["at"][state] = time.monotonic()

    states = ("received", "started", "succeeded", "failed", "retried")
    handlers = {f"task-{state}": record for state in states}
    with app.connection_for_read() as connection:
        receiver = app.events.Receiver(connection, handlers={"*": lambda event: None, **handlers})
        ready = threading.Event()
        consume_ready = receiver.on_consume_ready

        def on_consume_ready(*args, **kwargs):
            consume_ready(*args, **kwargs)
            ready.set()

        receiver.on_consume_ready = on_consume_ready
        thread = threading.Thread(target=lambda: receiver.capture(limit=None, timeout=None), daemon=True)
        thread.start()
        assert ready.wait(10), "the event receiver did not start"
        try:
            yield tasks
        finally:
            receiver.should_stop = True
            thread.join(5)


@pytest.fixture
def celery_worker(django_db_setup, django_db_blocker):
    """A real Celery worker process on the real Redis broker, using the test database, for one test
    (so that a test which needs no worker, or its own, never shares the queue with a leftover one).

    Tests that need the worker to see their rows must use `@pytest.mark.django_db(transaction=True)`.
    """
    process = spawn_worker(f"test-worker-{os.getpid()}@localhost")
    yield process
    stop_worker(process)


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """A channel layer of its own for each test: the Redis layer's receive lock belongs to the event loop
    that first waited on it, and each asynchronous test runs its own loop (a layer shared with an earlier
    test could fail with "bound to a different event loop")."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
