"""What every HTTP connector does with a platform's answer: the same errors for the same statuses.

429 → RateLimited (retried after the platform's delay), 5xx → TransientError (retried with back-off), any
other 4xx → PayloadRejected (the channel or message fails with the platform's reason).
"""

from __future__ import annotations

import time

import httpx

from .base import PayloadRejected, RateLimited, TransientError


def seconds_until(epoch: str | None) -> float | None:
    """A rate-limit reset header given as epoch seconds, as a delay from now (at least one second)."""
    return max(1.0, int(epoch) - time.time()) if epoch and epoch.isdigit() else None


def raise_for_status(
    response: httpx.Response, *, platform: str, what: str, reason: str = "", retry_after: float | None = None
) -> None:
    status = response.status_code
    if status == 429:
        raise RateLimited(f"{platform} rate limit reached on {what}: {reason}".rstrip(": "), retry_after)
    if status >= 500:
        raise TransientError(f"{platform} answered HTTP {status} on {what}: {reason}".rstrip(": "))
    if status >= 400:
        raise PayloadRejected(f"{platform} refused {what} (HTTP {status}): {reason}".rstrip(": "))


def json_object(response: httpx.Response, *, platform: str, what: str, expect: type = dict):
    """The body as JSON of the expected type; anything else is the platform misbehaving: try again later."""
    try:
        data = response.json()
    except ValueError:
        raise TransientError(f"{platform} answered {what} with a body that is not JSON") from None
    if not isinstance(data, expect):
        raise TransientError(f"{platform} answered {what} with an unexpected JSON document")
    return data
