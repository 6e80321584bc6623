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


def pytest_collection_modifyitems(items):
    """Every test of a *_browser.py module drives Chromium: mark it, so that a run can leave them out
    (.ci/run's second pass, on the external servers)."""
    for item in items:
        if item.path.name.endswith("_browser.py"):
            item.add_marker(pytest.mark.browser)


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
    """The environment of a process of the app (worker, beat, web) on the test database and the test Redis."""
    from django.db import connection

    env = dict(os.environ)
    env["DATABASE_URL"] = _test_database_url(connection.settings_dict["NAME"])
    env["CXM_TESTING"] = "1"
    return env


def spawn_worker(
    hostname: str, *, concurrency: int = 1, events: bool = False, env: dict | None = None
) -> subprocess.Popen:
    """Start a real Celery worker process on the test database and the test Redis (with `env` added to its
    environment); returns when it answers. It serves every queue, live work first, as a worker of `dev.py run`
    does (cxm/queues.py)."""
    from cxm.celery import app
    from cxm.queues import QUEUES_BY_PRIORITY

    env = {**worker_env(), **(env or {})}
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
        env=env,
        cwd=ROOT,
        start_new_session=True,  # its own process group: a test can kill -9 the worker and its children
    )
    deadline = time.monotonic() + 60
    while not _answers(app, hostname):
        if process.poll() is not None or time.monotonic() > deadline:
            os.killpg(process.pid, 9)
            raise RuntimeError("the Celery worker did not start")
    return process


def spawn_beat(schedule: Path, *, env: dict | None = None) -> subprocess.Popen:
    """Start the real Celery beat on its real schedule (and with it the payload relay, cxm/celery.py), with
    `env` added to its environment."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cxm",
            "beat",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(schedule),
        ],
        env={**worker_env(), **(env or {})},
        cwd=ROOT,
        start_new_session=True,
    )


def spawn_web(port: int) -> subprocess.Popen:
    """Start uvicorn on cxm.asgi on 127.0.0.1:`port` as `dev.py run` does (lifespan on); returns when it
    answers."""
    import urllib.request

    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "cxm.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
        + ["--no-access-log", "--lifespan", "on", "--log-level", "warning"],
        env=worker_env(),
        cwd=ROOT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/?live=1", timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                os.killpg(process.pid, 9)
                raise RuntimeError("uvicorn did not start") from None
            time.sleep(0.2)


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


@pytest.fixture(autouse=True)
def forget_failed_attempts():
    """Failed sign-ins and API keys are counted per address in Redis for 15 minutes (apps.core.throttle), and
    every test calls from 127.0.0.1: a test's deliberate failures must not lock the next tests out."""
    yield
    from apps.accounts.signin import LOGIN_PER_ADDRESS
    from apps.api.services import API_AUTH_PER_ADDRESS

    for limit in (LOGIN_PER_ADDRESS, API_AUTH_PER_ADDRESS):
        limit.reset("127.0.0.1")
