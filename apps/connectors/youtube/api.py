"""Calls to the YouTube Data API v3, counted against the channel's daily quota, with OAuth refresh.

- Quota: every project gets 10,000 units a day by default, reset at midnight Pacific time; a call costs a
  fixed number of units (https://developers.google.com/youtube/v3/determine_quota_cost): commentThreads.list,
  comments.list and channels.list 1, search.list 100, comments.insert 50. The connector counts what it
  spends in the channel's cursor (`{"quota": {"day": "<Pacific date>", "used": n}}`) and stops before a
  call would pass the channel's daily quota; YouTube's own `403 quotaExceeded` (the project's quota
  spent by another user of the same key) stops it the same way until the next Pacific day.
- Auth: reads use the API key when there is one, else the OAuth access token; writes (comments.insert) need
  the OAuth token. A `401` with a refresh token configured is answered by refreshing the access token
  (https://oauth2.googleapis.com/token, grant_type=refresh_token), kept in this process until it expires;
  without one, the channel is refused with what to do.
- Errors are `{"error": {"code", "message", "errors": [{"domain", "reason", "message"}]}}`.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from ..base import PayloadRejected, RateLimited, TransientError
from ..http import TIMEOUT, delay_seconds, public_client, send

DEFAULT_API_BASE = "https://www.googleapis.com/youtube/v3"
DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"
DEFAULT_DAILY_QUOTA = 10_000
PACIFIC = ZoneInfo("America/Los_Angeles")
COSTS = {
    "commentThreads.list": 1,
    "comments.list": 1,
    "channels.list": 1,
    "search.list": 100,
    "comments.insert": 50,
}
PLATFORM = "YouTube"

_tokens: dict[int, tuple[float, str]] = {}  # channel id → (expiry, access token refreshed in this process)
_lock = threading.Lock()


class QuotaSpent(Exception):
    """The channel's daily quota is spent (by CXM's own count, or as YouTube says): stop until tomorrow."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SourceRefused(PayloadRejected):
    """One video or channel cannot be read (comments disabled, not found): that source is skipped."""


SOURCE_REASONS = ("commentsDisabled", "videoNotFound", "channelNotFound", "commentThreadNotFound")


def pacific_day(now: datetime | None = None) -> str:
    return (now or datetime.now(PACIFIC)).astimezone(PACIFIC).date().isoformat()


def seconds_to_next_pacific_day(now: datetime | None = None) -> float:
    now = (now or datetime.now(PACIFIC)).astimezone(PACIFIC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), PACIFIC)
    return max(60.0, (midnight - now).total_seconds() + 60)


def daily_quota(channel) -> int:
    try:
        return max(1, int(channel.settings.get("daily_quota") or DEFAULT_DAILY_QUOTA))
    except (TypeError, ValueError):
        return DEFAULT_DAILY_QUOTA


class Quota:
    """What the channel spent today, read from and written back to its cursor."""

    def __init__(self, channel, cursor: dict):
        self.limit = daily_quota(channel)
        state = cursor.get("quota") if isinstance(cursor.get("quota"), dict) else {}
        today = pacific_day()
        self.day = today
        self.used = int(state.get("used") or 0) if state.get("day") == today else 0
        self.cursor = cursor
        self.save()

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)

    def spend(self, method: str) -> None:
        cost = COSTS[method]
        if self.used + cost > self.limit:
            raise QuotaSpent(
                f"YouTube daily quota spent: {self.used} of {self.limit} units used today (Pacific time); "
                f"{method} costs {cost}. Polling resumes after midnight Pacific time"
            )
        self.used += cost
        self.save()

    def exhaust(self, reason: str) -> None:
        self.used = max(self.used, self.limit)
        self.save()
        raise QuotaSpent(f"YouTube refused: {reason}. Polling resumes after midnight Pacific time")

    def save(self) -> None:
        self.cursor["quota"] = {"day": self.day, "used": self.used, "limit": self.limit}


def forget_tokens() -> None:
    with _lock:
        _tokens.clear()


def _refreshed_token(channel) -> str | None:
    with _lock:
        found = _tokens.get(channel.pk)
    return found[1] if found and found[0] > time.monotonic() else None


def _refresh(channel, http: httpx.Client) -> str:
    credentials = channel.credentials
    missing = [k for k in ("refresh_token", "client_id", "client_secret") if not credentials.get(k)]
    if missing:
        raise PayloadRejected(
            "the YouTube OAuth access token expired or was revoked, and the channel has no "
            f"{', '.join(missing)} to refresh it: paste a new access token, or add the refresh token "
            "with the OAuth client's id and secret"
        )
    url = str(channel.settings.get("token_url") or DEFAULT_TOKEN_URL)
    response = send(
        http,
        "POST",
        url,
        platform="Google OAuth",
        data={
            "grant_type": "refresh_token",
            "refresh_token": credentials["refresh_token"],
            "client_id": credentials["client_id"],
            "client_secret": credentials["client_secret"],
        },
    )
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code >= 500:
        raise TransientError(f"Google OAuth answered HTTP {response.status_code} to the token refresh")
    if response.status_code >= 400 or not isinstance(data, dict) or not data.get("access_token"):
        error = (data.get("error_description") or data.get("error")) if isinstance(data, dict) else ""
        error = error or f"HTTP {response.status_code}"
        raise PayloadRejected(
            f"Google refused to refresh the YouTube access token ({error}): "
            "connect the channel again to get a new refresh token"
        )
    lifetime = float(data.get("expires_in") or 3600)
    with _lock:
        _tokens[channel.pk] = (time.monotonic() + max(60.0, lifetime - 60), str(data["access_token"]))
    return str(data["access_token"])


def _error(data) -> tuple[str, str]:
    """(reason code, message) of a Google API error body."""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return "", ""
    reasons = [e.get("reason") for e in error.get("errors") or [] if isinstance(e, dict) and e.get("reason")]
    return (str(reasons[0]) if reasons else str(error.get("status") or "")), str(error.get("message") or "")


class YouTubeApi:
    def __init__(self, channel, http: httpx.Client, quota: Quota | None):
        self.channel = channel
        self.http = http
        self.quota = quota
        self.base = str(channel.settings.get("api_base") or DEFAULT_API_BASE).rstrip("/")

    def _auth(self, *, write: bool) -> tuple[dict, dict]:
        """(query params, headers) that authenticate a call."""
        credentials = self.channel.credentials
        token = _refreshed_token(self.channel) or credentials.get("access_token")
        if write or not credentials.get("api_key"):
            if not token and credentials.get("refresh_token"):
                token = _refresh(self.channel, self.http)
            if not token:
                what = "replying to comments" if write else "reading comments"
                raise PayloadRejected(f"{what} needs an OAuth access token (or an API key to read)")
            return {}, {"Authorization": f"Bearer {token}"}
        return {"key": credentials["api_key"]}, {}

    def call(
        self, method: str, http_method: str, path: str, params: dict, *, json: dict | None = None
    ) -> dict:
        write = http_method != "GET"
        for attempt in (1, 2):
            query, headers = self._auth(write=write)
            if self.quota is not None:
                self.quota.spend(method)
            response = send(
                self.http,
                http_method,
                f"{self.base}{path}",
                platform=PLATFORM,
                params={**params, **query},
                headers=headers,
                json=json,
            )
            if (
                response.status_code == 401
                and attempt == 1
                and headers
                and self.channel.credentials.get("refresh_token")
            ):
                _refresh(self.channel, self.http)
                continue
            break
        return self._answer(method, response)

    def _answer(self, method: str, response: httpx.Response) -> dict:
        status = response.status_code
        try:
            data = response.json()
        except ValueError:
            data = None
        if status < 300:
            if not isinstance(data, dict):
                raise TransientError(f"YouTube answered {method} with a body that is not a JSON object")
            return data
        reason, message = _error(data)
        detail = f"{reason}: {message}" if reason else (message or f"HTTP {status}")
        if reason in ("quotaExceeded", "dailyLimitExceeded") and self.quota is not None:
            self.quota.exhaust(f"{method}: {detail}")
        if status == 429 or reason in ("rateLimitExceeded", "userRateLimitExceeded"):
            raise RateLimited(
                f"YouTube rate limit on {method}: {detail}",
                retry_after=delay_seconds(response.headers.get("retry-after")),
            )
        if status >= 500:
            raise TransientError(f"YouTube answered HTTP {status} on {method}: {detail}")
        if reason in SOURCE_REASONS:
            raise SourceRefused(f"YouTube refused {method} (HTTP {status}): {detail}")
        if status == 401:
            raise PayloadRejected(
                f"YouTube refused the credentials on {method} ({detail}): the access token expired or was "
                "revoked; add a refresh token (with the OAuth client id and secret) or paste a new token"
            )
        raise PayloadRejected(f"YouTube refused {method} (HTTP {status}): {detail}")


def client():
    return public_client(timeout=TIMEOUT)
