"""The README's run command, end to end: embedded PostgreSQL and Redis, migrations, demo, web, workers and
beat; the login page and a healthy /health/; the demo classified and on the dashboards within 60 s of the
URL; each demo role's landing page; Ctrl-C stops everything; a second start reuses the data."""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(var_dir: Path, ports: dict) -> subprocess.Popen:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CXM_TESTING", "ELASTICSEARCH_URL"}
    }
    env.update(
        CXM_VAR_DIR=str(var_dir),
        CXM_PG_PORT=str(ports["pg"]),
        CXM_REDIS_PORT=str(ports["redis"]),
        CXM_WEB_PORT=str(ports["web"]),
        CXM_DEMO_MESSAGES="300",
        CXM_WORKER_CONCURRENCY="1",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "cxm.stack", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Its output, read as it comes (so that the test can wait for a line); `_stop` returns it all.
    process.lines = []
    process.reader = threading.Thread(target=lambda: process.lines.extend(process.stdout), daemon=True)
    process.reader.start()
    return process


def _wait_announced(process: subprocess.Popen, timeout: float = 60) -> None:
    """Until the stack has printed its URL ("ready in …")."""
    deadline = time.monotonic() + timeout
    while not any("ready in" in line for line in process.lines):
        assert process.poll() is None and time.monotonic() < deadline, "".join(process.lines)[-3000:]
        time.sleep(0.2)


def _wait_healthy(base: str, process: subprocess.Popen, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        assert process.poll() is None, "the stack exited early"
        try:
            with urllib.request.urlopen(f"{base}/health/", timeout=5) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            last = error.read().decode()
        except OSError as error:
            last = str(error)
        time.sleep(1)
    raise AssertionError(f"/health/ never became healthy: {last}")


def _login(base: str, username: str, password: str) -> tuple[str, str]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    request = urllib.request.Request(
        f"{base}/login/", data=data.encode(), headers={"Referer": f"{base}/login/"}
    )
    response = opener.open(request)
    return response.geturl(), response.read().decode()


def _assert_nothing_left(tmp_path) -> None:
    """No process of the stack is left (a killed process group may take a moment to disappear)."""
    deadline = time.monotonic() + 10
    while True:
        left = subprocess.run(["pgrep", "-af", str(tmp_path)], capture_output=True, text=True).stdout
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not left, f"processes left behind:\n{left}"


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    process.wait(90)
    process.reader.join(10)
    output = "".join(process.lines)
    assert process.returncode == 0, output[-3000:]
    return output


@pytest.mark.timeout_sensitive
def test_run_command_serves_a_healthy_stack_and_restarts_warm(tmp_path):
    ports = {"pg": _free_port(), "redis": _free_port(), "web": _free_port()}
    base = f"http://127.0.0.1:{ports['web']}"

    process = _start(tmp_path, ports)
    try:
        report = _wait_healthy(base, process)
        _wait_announced(process)
        announced_at = time.monotonic()
        assert report["status"] == "ok" and all(check["ok"] for check in report["checks"].values())
        # The demo is complete when the URL is out (at the latest 60 s after): every message classified.
        while report["checks"]["classifier"]["waiting"]:
            assert time.monotonic() - announced_at < 60, report["checks"]["classifier"]
            time.sleep(1)
            report = _wait_healthy(base, process)
        # A second stack on the same data folder is refused: it would share, then stop, these servers.
        second = _start(tmp_path, ports)
        second.wait(120)
        second.reader.join(10)
        assert second.returncode == 1 and "already running" in "".join(second.lines)
        assert _wait_healthy(base, process)["status"] == "ok"
        credentials = [
            line.split("\t") for line in (tmp_path / "demo-credentials.txt").read_text().splitlines()
        ]
        landing = {"admin": "/org/", "agent": "/inbox/", "marketer": "/dashboards/"}
        for username, password, _role in credentials:
            if username in landing:
                url, page = _login(base, username, password)
                assert urllib.parse.urlsplit(url).path == landing[username], (username, url)
                assert "Log out" in page
                if username == "marketer":  # the dashboards count the demo's messages (its rollups)
                    total = re.search(r'id="dashboard-total"><a [^>]*>([\d,]+)</a>', page).group(1)
                    assert int(total.replace(",", "")) > 0, total
    finally:
        if process.poll() is None:
            first_output = _stop(process)
    assert "demo logins" in first_output and "ready in" in first_output
    _assert_nothing_left(tmp_path)

    # Second start: the same data, no new demo.
    process = _start(tmp_path, ports)
    try:
        _wait_healthy(base, process)
        _wait_announced(process)
    finally:
        second_output = _stop(process)
    assert "Demo ready" not in second_output and "demo logins" in second_output


def _children(pid: int) -> dict[int, str]:
    """The stack's direct child processes: pid → command line."""
    children = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            children[int(child)] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
    return children


def _child(pid: int, *words: str) -> int:
    for child, command in _children(pid).items():
        if all(word in command for word in words):
            return child
    raise AssertionError(f"no child process with {words}: {_children(pid)}")


@pytest.mark.timeout_sensitive
def test_run_command_starts_again_what_crashes(tmp_path):
    """kill -9 the worker, beat, Redis and PostgreSQL of a running stack: each is started again (with
    back-off, and the stack says so), and the app serves again."""
    ports = {"pg": _free_port(), "redis": _free_port(), "web": _free_port()}
    base = f"http://127.0.0.1:{ports['web']}"
    process = _start(tmp_path, ports)
    output = process.lines  # the stack's output as it comes, read by _start's own reader (the only one)
    try:
        _wait_healthy(base, process)
        crashes = {
            # Both workers of the one-machine layout (cxm/queues.one_machine_workers), named by hostname.
            "worker-live": lambda: os.killpg(_child(process.pid, "celery", "live@"), signal.SIGKILL),
            "worker": lambda: os.killpg(_child(process.pid, "celery", "worker@"), signal.SIGKILL),
            "beat": lambda: os.killpg(_child(process.pid, "celery", "beat"), signal.SIGKILL),
            "Redis": lambda: os.kill(_child(process.pid, "redis-server"), signal.SIGKILL),
            "PostgreSQL": lambda: os.kill(
                int((tmp_path / "postgres-run" / "postmaster.pid").read_text().split()[0]), signal.SIGKILL
            ),
        }
        for name, crash in crashes.items():
            crash()
            deadline = time.monotonic() + 60
            while not any(f"starting {name} again" in line for line in output):
                assert time.monotonic() < deadline, f"{name} was not started again:\n{''.join(output[-30:])}"
                time.sleep(0.5)
            _wait_healthy(base, process, timeout=120)
        url, page = _login(base, "admin", _password(tmp_path, "admin"))
        assert urllib.parse.urlsplit(url).path == "/org/" and "Log out" in page
    finally:
        if process.poll() is None:
            _stop(process)
    _assert_nothing_left(tmp_path)


def _password(var_dir: Path, username: str) -> str:
    for line in (var_dir / "demo-credentials.txt").read_text().splitlines():
        user, password, _role = line.split("\t")
        if user == username:
            return password
    raise AssertionError(f"no demo login {username}")
