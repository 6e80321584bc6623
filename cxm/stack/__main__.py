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
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
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
def backing_services(profile: str, attach: bool = False, started: dict | None = None):
    """Start embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL point elsewhere.

    Yields the environment the app's processes must run with. With `attach`, a stack already running
    on the same data folder is used as it is (and left running). The servers started are put in `started`
    (name → server), for the run command to watch.
    """
    started = {} if started is None else started
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
            started["PostgreSQL"] = postgres
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
            started["Redis"] = redis_server
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


# A process or server that dies is started again after this long, doubling with each death in a row up to
# RESTART_MAX_SECONDS; one that ran RESTART_RESET_SECONDS starts the count again. A process that dies this
# many times in a row right after its start (a port taken, a broken setting) stops the stack instead.
RESTART_FIRST_SECONDS = 1.0
RESTART_MAX_SECONDS = 30.0
RESTART_RESET_SECONDS = 30.0
RESTART_GIVE_UP = 8


@dataclass
class Watched:
    """A process of the app, or a backing server, with its restart policy."""

    name: str
    alive: Callable[[], bool]
    start: Callable[[], None]
    exit_code: Callable[[], int | None] = lambda: None
    # A backing server is started again however often it dies: the app cannot work without it.
    give_up: bool = True
    started_at: float = field(default_factory=time.monotonic)
    deaths: int = 0
    restart_at: float | None = None


class Supervisor:
    """Runs the app's long-lived processes and watches the backing servers: one that dies is started again
    with back-off, and the stack says so; Ctrl-C stops them all."""

    def __init__(self, env: dict):
        self.env = env
        self.processes: dict[str, subprocess.Popen] = {}
        self.watched: dict[str, Watched] = {}
        self.stopping = False

    def spawn(self, name: str, args: list[str]) -> None:
        def start():
            # Its own process group, so that Ctrl-C reaches only us and we stop them in order.
            self.processes[name] = subprocess.Popen(args, env=self.env, cwd=ROOT, start_new_session=True)

        start()
        self.watched[name] = Watched(
            name,
            alive=lambda: self.processes[name].poll() is None,
            start=start,
            exit_code=lambda: self.processes[name].poll(),
        )

    def watch_server(self, name: str, alive: Callable[[], bool], start: Callable[[], None]) -> None:
        self.watched[name] = Watched(name, alive=alive, start=start, give_up=False)

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

    def check(self) -> int | None:
        """Start again what died and is due; an exit code when the stack must stop."""
        now = time.monotonic()
        for item in self.watched.values():
            if item.restart_at is None:
                if item.alive():
                    continue
                item.deaths = 1 if now - item.started_at >= RESTART_RESET_SECONDS else item.deaths + 1
                code = item.exit_code()
                how = f"exited with code {code}" if code is not None else "stopped"
                if item.give_up and item.deaths >= RESTART_GIVE_UP:
                    say(f"{item.name} {how}, {item.deaths} times in a row soon after starting; stopping")
                    return code or 1
                delay = min(RESTART_FIRST_SECONDS * 2 ** (item.deaths - 1), RESTART_MAX_SECONDS)
                say(f"{item.name} {how}; starting it again in {delay:.0f} s (restart {item.deaths} in a row)")
                item.restart_at = now + delay
            elif now >= item.restart_at:
                say(f"starting {item.name} again")
                try:
                    item.start()
                except Exception as error:  # a server that cannot start yet: the next try is later
                    say(f"{item.name} did not start: {error}".splitlines()[0])
                item.started_at, item.restart_at = time.monotonic(), None
        return None

    def wait(self, ready_check=None) -> int:
        """Watch the processes until the stack must stop or we are told to; `ready_check` runs in the loop
        until it returns True."""
        try:
            while True:
                if ready_check is not None and ready_check():
                    ready_check = None
                code = self.check()
                if code is not None:
                    return code
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


def _database_ready(env: dict, *, for_tests: bool) -> bool:
    """A DATABASE_URL from the environment is checked first: what it lacks is said in one paragraph."""
    if "DATABASE_URL" not in os.environ:
        return True  # the embedded server, which has everything
    from .external import database_url_problems

    problems = database_url_problems(env["DATABASE_URL"], for_tests=for_tests)
    for problem in problems:
        say(f"the database is not ready for {'the tests' if for_tests else 'CXM'}: {problem}")
    return not problems


def command_run(argv: list[str]) -> int:
    started = time.monotonic()
    # Ctrl-C and SIGTERM stop the stack in order, even when started from a shell that ignores SIGINT.
    signal.signal(signal.SIGINT, _on_stop_signal)
    signal.signal(signal.SIGTERM, _on_stop_signal)
    servers: dict = {}
    with backing_services("run", started=servers) as env:
        if not _database_ready(env, for_tests=False):
            return 1
        say("applying migrations")
        if manage(env, "migrate", "--no-input", "-v", "0", check=False) != 0:
            say("migrate failed: its message above says why, and for a database step what fixes it")
            return 1
        manage(env, "collectstatic", "--no-input", "-v", "0")
        # Creates the demo organisation, its users and generated demo data only when the database is empty.
        demo_messages = env.get("CXM_DEMO_MESSAGES", "6000")
        # It classifies the demo's messages on every core before the workers start: complete when announced.
        cores = str(os.cpu_count() or 1)
        demo = ["--if-empty", "--quiet-credentials", "--messages", demo_messages, "--processes", cores]
        manage(env, "seed_demo", *demo)
        port = int(env.get("CXM_WEB_PORT", RUN_PORTS["web"]))
        supervisor = Supervisor(env)
        for name, server in servers.items():
            supervisor.watch_server(name, server.alive, server.restart)
        host = env.get("CXM_HOST", "127.0.0.1")
        concurrency = env.get("CXM_WORKER_CONCURRENCY", "1")
        schedule = VAR / "celerybeat-schedule"
        # The lifespan's shutdown publishes the tasks the webhook intake still holds (uvicorn re-raises
        # SIGTERM once it has stopped, so no atexit handler would run).
        supervisor.spawn(
            "web",
            f"{PYTHON} -m uvicorn cxm.asgi:application --host {host} --port {port} --no-access-log "
            "--lifespan on".split(),
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
    if "--external" in argv:
        from . import external

        argv = [arg for arg in argv if arg != "--external"]
        try:
            with external.debian_servers(say) as servers:
                os.environ.update(servers)
                return command_test(argv)
        except external.SetupError as error:
            say(str(error))
            return 1
    with backing_services("test") as env:
        if not _database_ready(env, for_tests=True):
            return 1
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
