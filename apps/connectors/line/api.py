"""Calls to the LINE Messaging API, with its answers mapped to the connector errors.

Every call carries `Authorization: Bearer <channel access token>`. Two hosts: `api.line.me` (reply, push,
profiles, bot info) and `api-data.line.me` (the content users send: images, videos, audio, files). An
error answer is `{"message": "…", "details": [{"message": "…", "property": "…"}]}`
(https://developers.line.biz/en/reference/messaging-api/#error-responses):

- 400 "Invalid reply token" (used, or older than its validity): the reply goes out as a push instead;
- 401 "Authentication failed…": the channel access token expired or was revoked; an admin issues a new one;
- 429 "The API rate limit has been exceeded" (retried later) or "You have reached your monthly limit."
  (the plan's free messages are spent: refused, not retried);
- 5xx: retried with back-off.
"""

from __future__ import annotations

import httpx

from ..base import PayloadRejected, RateLimited, TransientError
from ..http import TIMEOUT, delay_seconds, public_client, send

DEFAULT_API_BASE = "https://api.line.me"
DEFAULT_DATA_BASE = "https://api-data.line.me"
PLATFORM = "LINE"


class InvalidReplyToken(PayloadRejected):
    """The reply token was used already or expired: the same message can still be pushed."""


class AlreadyAccepted(PayloadRejected):
    """409: a push with this X-Line-Retry-Key was accepted before (the answer to that try was lost)."""

    def __init__(self, reason: str, request_id: str):
        super().__init__(reason)
        self.request_id = request_id


def api_base(channel) -> str:
    return str(channel.settings.get("api_base") or DEFAULT_API_BASE).rstrip("/")


def data_base(channel) -> str:
    return str(channel.settings.get("data_api_base") or DEFAULT_DATA_BASE).rstrip("/")


def _token(channel) -> str:
    token = channel.credentials.get("channel_access_token")
    if not token:
        raise PayloadRejected("the channel has no LINE channel access token configured")
    return str(token)


def line_request(
    channel,
    method: str,
    path: str,
    *,
    json: dict | None = None,
    data_api: bool = False,
    headers: dict | None = None,
    timeout: httpx.Timeout | float = TIMEOUT,
) -> httpx.Response:
    """One call; a successful (2xx) response is returned as it is, any other raises the connector error."""
    base = data_base(channel) if data_api else api_base(channel)
    request_headers = {"Authorization": f"Bearer {_token(channel)}", **(headers or {})}
    with public_client(timeout=timeout) as http:
        response = send(http, method, f"{base}{path}", platform=PLATFORM, json=json, headers=request_headers)
    if response.status_code < 300:
        return response
    raise line_error(path, response)


def line_json(channel, method: str, path: str, **kwargs) -> dict:
    response = line_request(channel, method, path, **kwargs)
    try:
        data = response.json()
    except ValueError:
        raise TransientError(f"LINE answered {path} with a body that is not JSON") from None
    if not isinstance(data, dict):
        raise TransientError(f"LINE answered {path} with an unexpected JSON document")
    return data


def _reason(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:300].strip() or f"HTTP {response.status_code}"
    if not isinstance(data, dict):
        return f"HTTP {response.status_code}"
    reason = str(data.get("message") or f"HTTP {response.status_code}")
    details = [
        f"{d.get('property')}: {d.get('message')}" if d.get("property") else str(d.get("message"))
        for d in data.get("details") or []
        if isinstance(d, dict) and d.get("message")
    ]
    return f"{reason} ({'; '.join(details)})" if details else reason


def line_error(path: str, response: httpx.Response) -> Exception:
    status = response.status_code
    reason = _reason(response)
    what = f"LINE {path.split('?')[0]}"
    if status == 429:
        if "monthly limit" in reason.lower():
            return PayloadRejected(f"{what}: {reason} (the plan's messages for this month are spent)")
        return RateLimited(
            f"{what}: {reason}", retry_after=delay_seconds(response.headers.get("retry-after"))
        )
    if status >= 500:
        return TransientError(f"{what}: HTTP {status}: {reason}")
    if status == 401:
        return PayloadRejected(
            f"{what}: the channel access token was refused ({reason}): it expired or was revoked; issue a "
            "new one in the LINE Developers Console (Messaging API tab) and save it on the channel"
        )
    if status == 409 and response.headers.get("x-line-accepted-request-id"):
        return AlreadyAccepted(f"{what}: {reason}", response.headers["x-line-accepted-request-id"])
    if status == 400 and "reply token" in reason.lower():
        return InvalidReplyToken(f"{what}: {reason}")
    return PayloadRejected(f"{what} (HTTP {status}): {reason}")
