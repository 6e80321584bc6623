"""`python -m cxm.stack run|test|bench|services|manage …` (normally through `python3 dev.py …`)."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from cxm.queues import one_machine_workers

from .postgres import EmbeddedPostgres
from .redis import EmbeddedRedis

ROOT = Path(__file__).resolve().parents[2]
VAR = Path(os.environ.get("CXM_VAR_DIR", ROOT / "var"))
PYTHON = sys.executable

# Fixed local ports keep `manage.py` usable beside a running stack without any configuration.
RUN_PORTS = {"postgres": 54329, "redis": 63799, "web": 8000}
TEST_PORTS = {"postgres": 54339, "redis": 63809}


def say(text: str) -> None:
    print(f"\033[1m[cxm]\033[0m {text}", flush=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _use_private_servers(env: dict) -> None:
    env["CXM_PG_PORT"] = os.environ["CXM_PG_PORT"] = str(_free_port())
    env["CXM_REDIS_PORT"] = os.environ["CXM_REDIS_PORT"] = str(_free_port())


@contextmanager
def _private_var(env: dict):
    global VAR
    import shutil
    import tempfile

    previous = VAR
    VAR = Path(tempfile.mkdtemp(prefix="cxm-test-"))
    os.environ["CXM_VAR_DIR"] = env["CXM_VAR_DIR"] = str(VAR)
    say(f"another test run holds {previous}; this one uses its own servers in {VAR}")
    try:
        yield
    finally:
        VAR = previous
        shutil.rmtree(env["CXM_VAR_DIR"], ignore_errors=True)


class StackBusy(RuntimeError):
    pass


def _lock(profile: str):
    """One stack per data folder and profile: a second `run` on the same var/ would share its servers."""
    VAR.mkdir(parents=True, exist_ok=True)
    handle = open(VAR / f".{profile}.lock", "a+")  # noqa: SIM115 - held for the life of the stack
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise StackBusy(profile) from None
    return handle


@contextmanager
def backing_services(profile: str, attach: bool = False):
    """Start embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL point elsewhere.

    Yields the environment the app's processes must run with. With `attach`, a stack already running
    on the same data folder is used as it is (and left running).
    """
    ports = RUN_PORTS if profile == "run" else TEST_PORTS
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "cxm.settings")
    postgres = redis_server = None
    if profile != "run":
        # Another checkout's tests may hold the default ports (its own data folder, so no lock tells us).
        for service, variable in (("postgres", "CXM_PG_PORT"), ("redis", "CXM_REDIS_PORT")):
            if variable not in env and not _port_free(ports[service]):
                env[variable] = os.environ[variable] = str(_free_port())
    try:
        lock = _lock(profile)
    except StackBusy:
        if profile != "run" and not attach:
            # Tests and benchmarks are throwaway: a second run gets its own servers on free ports.
            _use_private_servers(env)
            with _private_var(env), backing_services(profile) as private_env:
                yield private_env
            return
        if not attach:
            say(
                f"a CXM stack is already running on {VAR} (profile '{profile}'); stop it first, "
                "or set CXM_VAR_DIR and the CXM_*_PORT variables for a second one"
            )
            raise SystemExit(1) from None
        env.setdefault(
            "DATABASE_URL", f"postgresql://postgres@127.0.0.1:{env.get('CXM_PG_PORT', ports['postgres'])}/cxm"
        )
        env.setdefault("REDIS_URL", f"redis://127.0.0.1:{env.get('CXM_REDIS_PORT', ports['redis'])}/0")
        yield env
        return
    try:
        if not env.get("DATABASE_URL"):
            postgres = EmbeddedPostgres(
                datadir=VAR / f"postgres-{profile}",
                port=int(env.get("CXM_PG_PORT", ports["postgres"])),
                # Tests and benchmarks rebuild their data; the app keeps PostgreSQL's durable defaults.
                settings={"fsync": "off", "full_page_writes": "off"} if profile != "run" else None,
            )
            say(f"starting PostgreSQL 18 (embedded) on 127.0.0.1:{postgres.port}, data in {postgres.datadir}")
            postgres.start()
            postgres.ensure_database("cxm")
            env["DATABASE_URL"] = postgres.url("cxm")
            env["CXM_EMBEDDED_PG_DATADIR"] = str(postgres.datadir)
            env["CXM_EMBEDDED_PG_PORT"] = str(postgres.port)
        else:
            say("using DATABASE_URL from the environment")
        if not env.get("REDIS_URL"):
            redis_server = EmbeddedRedis(
                datadir=VAR / f"redis-{profile}",
                port=int(env.get("CXM_REDIS_PORT", ports["redis"])),
                persistent=profile == "run",
            )
            say(f"starting Redis (embedded) on 127.0.0.1:{redis_server.port}")
            redis_server.start()
            env["REDIS_URL"] = redis_server.url
            env["CXM_EMBEDDED_REDIS_DATADIR"] = str(redis_server.datadir)
            env["CXM_EMBEDDED_REDIS_PORT"] = str(redis_server.port)
        else:
            say("using REDIS_URL from the environment")
        if env.get("ELASTICSEARCH_URL"):
            say("search backend: Elasticsearch at ELASTICSEARCH_URL")
        yield env
    finally:
        if redis_server is not None:
            redis_server.stop()
        if postgres is not None:
            say("stopping PostgreSQL")
            postgres.stop()
        lock.close()


def manage(env: dict, *args: str, check: bool = True) -> int:
    return subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, check=check).returncode


class Supervisor:
    """Runs the app's long-lived processes; the first to die, or Ctrl-C, stops them all."""

    def __init__(self, env: dict):
        self.env = env
        self.processes: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def spawn(self, name: str, args: list[str]) -> None:
        # Each child gets its own process group so that Ctrl-C reaches only us and we stop them in order.
        self.processes[name] = subprocess.Popen(args, env=self.env, cwd=ROOT, start_new_session=True)

    def stop(self) -> None:
        self.stopping = True
        for name, process in self.processes.items():
            if process.poll() is None:
                say(f"stopping {name}")
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def wait(self, ready_check=None) -> int:
        """Watch the processes until one dies or we are told to stop; `ready_check` runs once, in the loop."""
        try:
            while True:
                if ready_check is not None and ready_check():
                    ready_check = None
                for name, process in self.processes.items():
                    code = process.poll()
                    if code is not None:
                        say(f"{name} exited with code {code}; stopping the stack")
                        return code or 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            print()
            say("Ctrl-C: stopping every process")
            return 0
        finally:
            self.stop()


def _on_stop_signal(signum, frame):
    raise KeyboardInterrupt


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return json.load(response)["status"] == "ok"
    except (OSError, ValueError, KeyError):
        return False


def _print_credentials() -> None:
    path = VAR / "demo-credentials.txt"
    if path.exists():
        say("demo logins (username / password / role):")
        for line in path.read_text().splitlines():
            user, password, role = line.split("\t")
            print(f"      {user:<14} {password:<14} {role}", flush=True)


def command_run(argv: list[str]) -> int:
    started = time.monotonic()
    # Ctrl-C and SIGTERM stop the stack in order, even when started from a shell that ignores SIGINT.
    signal.signal(signal.SIGINT, _on_stop_signal)
    signal.signal(signal.SIGTERM, _on_stop_signal)
    with backing_services("run") as env:
        say("applying migrations")
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "collectstatic", "--no-input", "-v", "0")
        # Creates the demo organisation, its users and generated demo data only when the database is empty.
        demo_messages = env.get("CXM_DEMO_MESSAGES", "6000")
        # It classifies the demo's messages on every core before the workers start: complete when announced.
        cores = str(os.cpu_count() or 1)
        demo = ["--if-empty", "--quiet-credentials", "--messages", demo_messages, "--processes", cores]
        manage(env, "seed_demo", *demo)
        port = int(env.get("CXM_WEB_PORT", RUN_PORTS["web"]))
        supervisor = Supervisor(env)
        host = env.get("CXM_HOST", "127.0.0.1")
        concurrency = env.get("CXM_WORKER_CONCURRENCY", "1")
        schedule = VAR / "celerybeat-schedule"
        supervisor.spawn(
            "web",
            f"{PYTHON} -m uvicorn cxm.asgi:application --host {host} --port {port} --no-access-log "
            "--lifespan off".split(),
        )
        # A worker for live work alone beside one for every queue (cxm/queues.py).
        for name, arguments in one_machine_workers(int(concurrency)).items():
            celery = [PYTHON, "-m", "celery", "--quiet", "-A", "cxm", "worker", "--loglevel", "INFO"]
            supervisor.spawn(name, [*celery, *arguments])
        supervisor.spawn(
            "beat", f"{PYTHON} -m celery --quiet -A cxm beat --loglevel INFO --schedule {schedule}".split()
        )
        supervisor.spawn("email-idle", [PYTHON, str(ROOT / "manage.py"), "email_idle"])
        deadline = time.monotonic() + 120

        def announce_when_healthy() -> bool:
            if _health_ok(f"http://127.0.0.1:{port}/health/"):
                _print_credentials()
                say(
                    f"ready in {time.monotonic() - started:.1f}s: open http://127.0.0.1:{port}/  "
                    f"(health: http://127.0.0.1:{port}/health/) — Ctrl-C stops everything"
                )
                return True
            if time.monotonic() > deadline:
                say(f"not healthy after 120 s: see http://127.0.0.1:{port}/health/")
                return True
            return False

        return supervisor.wait(ready_check=announce_when_healthy)


def command_test(argv: list[str]) -> int:
    with backing_services("test") as env:
        env["CXM_TESTING"] = "1"
        code = subprocess.run([PYTHON, "-m", "pytest", *argv], env=env, cwd=ROOT).returncode
        return code


def command_bench(argv: list[str]) -> int:
    with backing_services("bench") as env:
        manage(env, "migrate", "--no-input", "-v", "0")
        return subprocess.run([PYTHON, str(ROOT / "bench" / "run.py"), *argv], env=env, cwd=ROOT).returncode


def command_services(argv: list[str]) -> int:
    with backing_services("run") as env:
        say(f"DATABASE_URL={env['DATABASE_URL']}  REDIS_URL={env['REDIS_URL']} — Ctrl-C stops them")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


def command_manage(argv: list[str]) -> int:
    with backing_services("run", attach=True) as env:
        return manage(env, *argv, check=False)


COMMANDS = {
    "run": command_run,
    "test": command_test,
    "bench": command_bench,
    "services": command_services,
    "manage": command_manage,
}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(f"usage: python3 dev.py {{{'|'.join(COMMANDS)}}} [args]")
        return 2
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
