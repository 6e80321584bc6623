"""What every HTTP connector does with a platform's answer: the same errors for the same statuses.

A request goes out with `send` (a network failure → TransientError), through `public_client` where the URL
is the tenant's, with TIMEOUT and CXM's USER_AGENT unless the platform wants its own. Then:
429 → RateLimited (retried after the platform's delay), 5xx → TransientError (retried with back-off), any
other 4xx → PayloadRejected (the channel or message fails with the platform's reason).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import httpx

from apps.core.outbound import DestinationRefused, GuardedTransport
from apps.core.parsing import ascii_int

from .base import PayloadRejected, RateLimited, TransientError

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "CXM-connector/1.0"


def seconds_until(epoch: str | None) -> float | None:
    """A rate-limit reset header given as epoch seconds, as a delay from now (at least one second)."""
    seconds = ascii_int(epoch)
    return max(1.0, seconds - time.time()) if seconds is not None else None


def delay_seconds(value: str | float | None) -> float | None:
    """A delay given in seconds (a Retry-After header, Reddit's X-Ratelimit-Reset), at least one second."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return max(1.0, seconds) if math.isfinite(seconds) else None


def send(http: httpx.Client, method: str, url: str, *, platform: str, **kwargs) -> httpx.Response:
    """`http.request(...)`; a platform out of reach (DNS, connection, timeout) is a TransientError."""
    try:
        return http.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        raise TransientError(f"{platform} unreachable: {error.__class__.__name__}: {error}") from None


def error_reason(response: httpx.Response, read: Callable[[dict], object]) -> str:
    """The reason an error answer gives: `read` finds it in a JSON object; a body that is not JSON is quoted
    (its first 300 characters)."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:300].strip()
    return str(read(data) or "") if isinstance(data, dict) else ""


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


class _ConnectorTransport(GuardedTransport):
    """A refused destination is the channel's configuration at fault: PayloadRejected, never retried."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except DestinationRefused as error:
            raise PayloadRejected(str(error)) from None


def public_client(**kwargs) -> httpx.Client:
    """The httpx client of every connector: each connection it opens, redirects too, must reach a public
    address (apps.core.outbound; off with CXM_ALLOW_PRIVATE_DESTINATIONS, as in tests)."""
    return httpx.Client(transport=_ConnectorTransport(), **kwargs)
