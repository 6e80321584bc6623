"""Limits on failed attempts (sign-ins, API keys), counted in the shared cache (Redis) so that every web
process sees the same counts.

A limit counts failures per subject (an account, an address) in fixed windows: once `limit` failures fall
in the current window, the subject is refused until the window ends, even with the right password. Subjects
are hashed into the key: no username or address is written to Redis as it came.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class FailureLimit:
    scope: str  # "login-account", "login-address", "api-address"…
    limit: int
    window_seconds: int

    def _window(self) -> tuple[int, int]:
        """The current window's number, and the seconds left in it."""
        now = int(time.time())
        return now // self.window_seconds, self.window_seconds - now % self.window_seconds

    def _key(self, subject: str, window: int) -> str:
        digest = hashlib.sha256(subject.strip().lower().encode(errors="replace")).hexdigest()[:32]
        return f"throttle:{self.scope}:{window}:{digest}"

    def retry_after(self, subject: str) -> int | None:
        """Seconds until `subject` may try again, or None when it may try now."""
        window, left = self._window()
        return left if (cache.get(self._key(subject, window)) or 0) >= self.limit else None

    def failed(self, subject: str) -> int:
        """Count one failure of `subject`; returns the failures of the current window so far."""
        window, left = self._window()
        key = self._key(subject, window)
        cache.add(key, 0, timeout=left + 1)
        try:
            return cache.incr(key)
        except ValueError:  # the window ended between add and incr
            cache.add(key, 1, timeout=self.window_seconds)
            return 1

    def reset(self, subject: str) -> None:
        window, _ = self._window()
        cache.delete(self._key(subject, window))


def client_address(request) -> str:
    """The address a request came from, as the server saw it (behind a proxy, run uvicorn with
    --proxy-headers and --forwarded-allow-ips so that this is the client's, not the proxy's)."""
    return request.META.get("REMOTE_ADDR") or "unknown"


# Frames or messages a socket may send in a sliding window (the inbox's and the live-chat widget's).
class SlidingWindow:
    def __init__(self, limit: int, seconds: float):
        self.limit, self.seconds, self.times = limit, seconds, deque()

    def allow(self, now: float | None = None) -> tuple[bool, float]:
        """(allowed, seconds to wait when not); an allowed event is counted."""
        now = time.monotonic() if now is None else now
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        if len(self.times) >= self.limit:
            return False, round(self.times[0] + self.seconds - now, 1)
        self.times.append(now)
        return True, 0.0
