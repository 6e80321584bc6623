"""Real HTTP load for the fault tests: signed webhooks sent as a platform sends them.

Each delivery is retried until it is answered 200 (after a 503, a refused or reset connection), as
platforms deliver again what was not acknowledged; the load keeps going through the fault. It speaks
HTTP/1.1 itself on asyncio streams over keep-alive connections, as bench/webhook_client.py does, so that
it takes little of the CPU the server under test needs.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from urllib.parse import urlsplit

from apps.connectors.webhook.connector import sign

from .conftest import SECRET, message

RETRY_WAIT_SECONDS = 0.2


class WebhookLoad:
    def __init__(self, url: str, count: int, *, connections: int = 4, start: int = 0):
        self.url = urlsplit(url)
        self.bodies = [json.dumps(message(n)).encode() for n in range(start, start + count)]
        self.connections = connections
        self.acknowledged = 0
        self.retried = 0
        self.statuses: dict[int, int] = {}
        self.last_acknowledged_at = 0.0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> WebhookLoad:
        self.thread.start()
        return self

    def wait(self, timeout: float) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the load did not finish: {self.acknowledged} acknowledged"
        if self.error is not None:
            raise self.error

    def wait_acknowledged(self, count: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.acknowledged < count:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the load stalled"
            time.sleep(0.01)

    def _request(self, body: bytes) -> bytes:
        timestamp = str(int(time.time()))
        head = (
            f"POST {self.url.path} HTTP/1.1\r\nHost: {self.url.netloc}\r\nContent-Type: application/json\r\n"
            f"X-CXM-Timestamp: {timestamp}\r\nX-CXM-Signature: {sign(SECRET, timestamp, body)}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    def _run(self) -> None:
        try:
            asyncio.run(self._send_all())
        except BaseException as error:  # reported by wait()
            self.error = error

    async def _send_all(self) -> None:
        bodies = iter(self.bodies)
        await asyncio.gather(*(self._connection(bodies) for _ in range(self.connections)))

    async def _connection(self, bodies) -> None:
        reader = writer = None
        for body in bodies:  # shared: each connection takes the next delivery
            while True:
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(self.url.hostname, self.url.port)
                    writer.write(self._request(body))
                    status, close = await self._answer(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    status, close = 0, True
                self.statuses[status] = self.statuses.get(status, 0) + 1
                if close and writer is not None:
                    writer.close()
                    reader = writer = None
                if status == 200:
                    self.acknowledged += 1
                    self.last_acknowledged_at = time.monotonic()
                    break
                self.retried += 1
                await asyncio.sleep(RETRY_WAIT_SECONDS)
        if writer is not None:
            writer.close()

    @staticmethod
    async def _answer(reader) -> tuple[int, bool]:
        status_line = await reader.readline()
        if not status_line:
            raise asyncio.IncompleteReadError(b"", None)
        length, close = 0, False
        while (header := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = header.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        await reader.readexactly(length)
        return int(status_line.split()[1]), close
