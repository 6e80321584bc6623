"""Servers the app did not start: `dev.py test --external` and the checks before tests on any of them.

`debian_servers()` runs the suite as an operator would deploy CXM: Debian's own PostgreSQL (with pgvector)
and redis-server, installed by `deploy/install-debian.sh` when missing, started on free ports in a
temporary folder (never the system's clusters or default ports), set up with nothing but the README's
DBA script, and connected to as a role that is not a superuser, with a password, over TCP.

The fault tests restart the servers they were given through two shell commands, which any external
setup may set: CXM_TEST_PG_CTL (pg_ctl or pg_ctlcluster with its cluster, to which `stop -m immediate` or
`start` is appended) and CXM_TEST_REDIS_RESTART (a command that restarts Redis). Without them those
tests skip.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from apps.core.prerequisites import database_problems

ROOT = Path(__file__).resolve().parents[2]
DEBIAN_POSTGRES = Path("/usr/lib/postgresql")
INSTALL_SCRIPT = ROOT / "deploy" / "install-debian.sh"
DBA_SCRIPT = ROOT / "deploy" / "dba-setup.sh"
# The names the README's DBA script is run with; the app connects as this role, which is no superuser.
DATABASE = ROLE = "cxm"
SYSTEM_USER = "postgres"  # Debian's PostgreSQL refuses to run as root; its package creates this user


class SetupError(RuntimeError):
    """Said in one paragraph, without a traceback."""


def database_url_problems(database_url: str, *, for_tests: bool) -> list[str]:
    """What stops `migrate` (or, `for_tests`, the test runner, which creates its database as a copy of
    template1) on this server, one paragraph each, the connection itself included."""
    parts = urlsplit(database_url)
    url = urlunsplit(parts._replace(path="/template1")) if for_tests else database_url
    try:
        with psycopg.connect(url, connect_timeout=10) as connection, connection.cursor() as cursor:
            return database_problems(cursor, for_tests=for_tests, app_database=parts.path.lstrip("/"))
    except psycopg.Error as error:
        where = f"{parts.username}@{parts.hostname}:{parts.port or 5432}{urlsplit(url).path}"
        return [f"Cannot connect to {where} (DATABASE_URL): {str(error).strip().splitlines()[0]}"]


def _postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL installed (/usr/lib/postgresql/<major>/bin)."""
    if not DEBIAN_POSTGRES.is_dir():
        return None
    majors = sorted((int(p.name) for p in DEBIAN_POSTGRES.iterdir() if p.name.isdigit()), reverse=True)
    for major in majors:
        if (DEBIAN_POSTGRES / str(major) / "bin" / "pg_ctl").exists():
            return DEBIAN_POSTGRES / str(major) / "bin"
    return None


def _missing() -> list[str]:
    bin_dir = _postgres_bin()
    missing = []
    if bin_dir is None:
        missing.append("Debian's PostgreSQL")
    elif not Path(f"/usr/share/postgresql/{bin_dir.parent.name}/extension/vector.control").exists():
        missing.append(f"pgvector for PostgreSQL {bin_dir.parent.name}")
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    return missing


def _ensure_installed(say) -> Path:
    if missing := _missing():
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            raise SetupError(
                f"{', '.join(missing)} not installed: run deploy/install-debian.sh as root (Debian 12+)"
            )
        say(f"installing {', '.join(missing)} with deploy/install-debian.sh")
        if subprocess.run(["sh", str(INSTALL_SCRIPT)]).returncode != 0:
            raise SetupError("deploy/install-debian.sh failed: its output above says where")
        if "redis-server" in missing:
            # Its package may have started the system's own server (unless policy-rc.d said no): these
            # tests start theirs on a free port, and leave the default one free.
            subprocess.run(["service", "redis-server", "stop"], check=False, capture_output=True)
    return _postgres_bin()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres_user() -> list[str]:
    return ["runuser", "-u", SYSTEM_USER, "--"] if os.geteuid() == 0 else []


@contextmanager
def debian_servers(say):
    """Start Debian's PostgreSQL and redis-server, set up by the DBA script; yield the environment to use."""
    bin_dir = _ensure_installed(say)
    folder = Path(tempfile.mkdtemp(prefix="cxm-external-"))
    datadir, pg_port, redis_port = folder / "postgres", _free_port(), _free_port()
    if os.geteuid() == 0:
        shutil.chown(folder, SYSTEM_USER, SYSTEM_USER)
    pg_ctl = [*_as_postgres_user(), str(bin_dir / "pg_ctl"), "-D", str(datadir), "-l", str(folder / "pg.log")]
    redis_start = [
        "redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--dir", str(folder),
        "--daemonize", "yes", "--pidfile", str(folder / "redis.pid"), "--logfile", str(folder / "redis.log"),
        "--save", "", "--appendonly", "no",
    ]  # fmt: skip
    redis_stop = ["redis-cli", "-p", str(redis_port), "shutdown", "nosave"]
    password = secrets.token_urlsafe(16)
    try:
        say(f"starting Debian's PostgreSQL {bin_dir.parent.name} on 127.0.0.1:{pg_port}, data in {datadir}")
        subprocess.run(
            [*_as_postgres_user(), str(bin_dir / "initdb"), "-D", str(datadir), "-U", "postgres",
             "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8"],
            check=True, capture_output=True,
        )  # fmt: skip
        with open(datadir / "postgresql.conf", "a") as conf:
            # In the configuration, so that the fault tests' `pg_ctl start` finds them again. The tests
            # rebuild their data: fsync off, as for the embedded test server.
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {pg_port}\nunix_socket_directories = '{folder}'\n"
                "fsync = off\nfull_page_writes = off\n"
            )
        subprocess.run([*pg_ctl, "-w", "start"], check=True, capture_output=True)
        say("applying the README's DBA script: deploy/dba-setup.sh cxm cxm --tests")
        subprocess.run(
            ["sh", str(DBA_SCRIPT), DATABASE, ROLE, "--tests"],
            env={**os.environ, "PGHOST": str(folder), "PGPORT": str(pg_port), "PGUSER": "postgres",
                 "CXM_DB_PASSWORD": password},
            check=True,
        )  # fmt: skip
        say(f"starting Debian's redis-server on 127.0.0.1:{redis_port}")
        subprocess.run(redis_start, check=True)
        _wait_for_redis(redis_port)
        yield {
            "DATABASE_URL": f"postgresql://{ROLE}:{password}@127.0.0.1:{pg_port}/{DATABASE}",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "CXM_TEST_PG_CTL": shlex.join([*pg_ctl, "-w"]),
            "CXM_TEST_REDIS_RESTART": f"{shlex.join(redis_stop)}; {shlex.join(redis_start)}",
        }
    except subprocess.CalledProcessError as error:
        output = (error.stderr or b"").decode(errors="replace").strip()
        raise SetupError(f"{shlex.join(error.cmd)} failed ({error.returncode}): {output}") from None
    finally:
        subprocess.run(redis_stop, check=False, capture_output=True)
        subprocess.run([*pg_ctl, "-m", "immediate", "-w", "stop"], check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for_redis(port: int) -> None:
    deadline = time.monotonic() + 20
    while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode != 0:
        if time.monotonic() > deadline:
            raise SetupError(f"redis-server did not answer on 127.0.0.1:{port}")
        time.sleep(0.2)
