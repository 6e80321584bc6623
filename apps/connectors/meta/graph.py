"""Graph API calls (`POST` or `GET {graph_base}/{graph_version}/{path}`) and Graph errors mapped to ours.

A Graph error is `{"error": {"message", "type", "code", "error_subcode", "error_data", "fbtrace_id",
"is_transient"}}`. The mapping:

- HTTP 429, or the rate-limit codes 4 (app), 17 (user), 32 (page), 613 (calls within a period),
  80001–80014 (business use case limits), 130429 / 131056 (WhatsApp throughput, pair rate) → RateLimited,
  with the delay from `Retry-After` or from X-Business-Use-Case-Usage's
  `estimated_time_to_regain_access` (minutes) when Meta gives one;
- code 190 → PayloadRejected("access token expired or invalid …"): retrying cannot help until someone
  gives the channel a new token;
- the messaging window: code 10 with subcode 2018278 (Messenger) or 2534022 (Instagram), and WhatsApp's
  131047 "Re-engagement message" → PayloadRejected saying so. The window itself (a free-form reply only
  within 24 hours of the customer's last message) is enforced beforehand by the composer; these errors
  are the platform's last word when a reply slips through anyway;
- HTTP 5xx, `is_transient`, codes 1 / 2 (unknown / service error), 131000 / 131016 / 133004 (WhatsApp
  "something went wrong", service unavailable) → TransientError, retried with back-off;
- anything else → PayloadRejected with Meta's message, subcode and details.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from apps.core.parsing import ascii_int

from ..base import PayloadRejected, RateLimited, TransientError
from ..http import public_client

DEFAULT_GRAPH_BASE = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v21.0"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)

RATE_LIMIT_CODES = {4, 17, 32, 613, 130429, 131056, *range(80001, 80015)}
TRANSIENT_CODES = {1, 2, 131000, 131016, 133004}
TOKEN_CODES = {102, 190}
WINDOW_SUBCODES = {2018278, 2534022}
WHATSAPP_REENGAGEMENT = 131047


def graph_url(channel, path: str) -> str:
    base = (channel.settings.get("graph_base") or DEFAULT_GRAPH_BASE).rstrip("/")
    version = (channel.settings.get("graph_version") or DEFAULT_GRAPH_VERSION).strip("/")
    return f"{base}/{version}/{path.lstrip('/')}"


def graph_post(channel, path: str, payload: dict, *, what: str) -> dict:
    """POST JSON to the Graph API with the channel's access token; returns the decoded answer."""
    return _graph_call(channel, "POST", path, what=what, json=payload)


def graph_get(channel, path: str, *, what: str, fields: str = "") -> dict:
    """GET an object of the Graph API (`fields` as Graph takes them) with the channel's access token."""
    return _graph_call(channel, "GET", path, what=what, params={"fields": fields} if fields else {})


def _graph_call(channel, method: str, path: str, *, what: str, params: dict | None = None, **body) -> dict:
    """Call the Graph API with the channel's access token; returns the decoded answer.

    When the channel knows its app secret, the call carries `appsecret_proof` (HMAC-SHA256 of the token),
    which apps with "Require App Secret" turned on must send.
    """
    token = channel.credentials.get("access_token")
    if not token:
        raise PayloadRejected("the channel has no Graph API access token configured")
    params = dict(params or {})
    app_secret = channel.credentials.get("app_secret")
    if app_secret:
        params["appsecret_proof"] = hmac.new(
            str(app_secret).encode(), str(token).encode(), hashlib.sha256
        ).hexdigest()
    try:
        with public_client(timeout=TIMEOUT) as http:
            response = http.request(
                method,
                graph_url(channel, path),
                params=params,
                headers={"Authorization": f"Bearer {token}"},
                **body,
            )
    except httpx.HTTPError as error:
        raise TransientError(f"{what}: {type(error).__name__}: {error}"[:500]) from None
    if response.status_code >= 400:
        raise graph_error(response, what=what)
    try:
        data = response.json()
    except ValueError:
        raise TransientError(
            f"{what}: the Graph API answered HTTP {response.status_code} without JSON"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        raise graph_error(response, what=what)
    return data if isinstance(data, dict) else {}


def retry_after(response: httpx.Response) -> float | None:
    header = response.headers.get("retry-after", "")
    if (seconds := ascii_int(header)) is not None:
        return float(seconds)
    try:
        usage = json.loads(response.headers.get("x-business-use-case-usage") or "{}")
    except ValueError:
        return None
    minutes = [
        item.get("estimated_time_to_regain_access") or 0
        for items in (usage.values() if isinstance(usage, dict) else [])
        if isinstance(items, list)
        for item in items
        if isinstance(item, dict)
    ]
    longest = max((m for m in minutes if isinstance(m, int | float)), default=0)
    return float(longest * 60) if longest > 0 else None


def graph_error(response: httpx.Response, *, what: str) -> Exception:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}
    code, subcode = error.get("code"), error.get("error_subcode")
    message = str(error.get("message") or f"HTTP {status}")
    details = (
        error.get("error_data", {}).get("details") if isinstance(error.get("error_data"), dict) else None
    )
    reference = f"code {code}" + (f", subcode {subcode}" if subcode else "") if code is not None else ""
    reason = (
        f"{what}: {message}" + (f" — {details}" if details else "") + (f" [{reference}]" if reference else "")
    )
    if status == 429 or code in RATE_LIMIT_CODES:
        return RateLimited(reason, retry_after=retry_after(response))
    if code in TOKEN_CODES:
        return PayloadRejected(f"access token expired or invalid; give the channel a new token ({reason})")
    if (code == 10 and subcode in WINDOW_SUBCODES) or code == WHATSAPP_REENGAGEMENT:
        return PayloadRejected(
            "outside the allowed messaging window: more than 24 hours since the customer's last message, "
            f"so a free-form reply is refused until they write again ({reason})"
        )
    if status >= 500 or error.get("is_transient") is True or code in TRANSIENT_CODES:
        return TransientError(reason, retry_after=retry_after(response))
    return PayloadRejected(reason)
