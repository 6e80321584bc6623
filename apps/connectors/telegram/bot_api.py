"""Calls to the Telegram Bot API, with its answers mapped to the connector errors.

Every method is `POST {api_base}/bot<token>/<method>` with a JSON body. Telegram answers
`{"ok": true, "result": …}`, or `{"ok": false, "error_code": 429, "description": "Too Many Requests: retry
after 5", "parameters": {"retry_after": 5}}` where `parameters` is a ResponseParameters object
(`retry_after` for flood control, `migrate_to_chat_id` when a group became a supergroup).
"""

from __future__ import annotations

import httpx

from ..base import PayloadRejected, RateLimited, TransientError
from ..http import public_client

DEFAULT_API_BASE = "https://api.telegram.org"
TIMEOUT_SECONDS = 30.0


def api_base(channel) -> str:
    return (channel.settings.get("api_base") or DEFAULT_API_BASE).rstrip("/")


def bot_call(channel, method: str, params: dict, *, timeout: float = TIMEOUT_SECONDS):
    """Call one Bot API method; returns its `result`.

    Raises RateLimited (429, with Telegram's retry_after), TransientError (network, 5xx) or
    PayloadRejected (anything Telegram refuses for good: a blocked bot, an unknown chat, a bad token).
    """
    token = channel.credentials.get("bot_token")
    if not token:
        raise PayloadRejected("the channel has no Telegram bot token configured")
    try:
        with public_client(timeout=httpx.Timeout(timeout, connect=10.0)) as http:
            response = http.post(f"{api_base(channel)}/bot{token}/{method}", json=params)
    except httpx.HTTPError as error:
        # The URL carries the token: never let it reach a log or an error column.
        detail = str(error).replace(token, "<bot token>")
        raise TransientError(f"Telegram {method}: {type(error).__name__}: {detail}"[:500]) from None
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code < 300 and isinstance(data, dict) and data.get("ok") is True:
        return data.get("result")
    raise bot_error(method, response.status_code, data if isinstance(data, dict) else {})


def bot_error(method: str, status: int, data: dict) -> Exception:
    code = data.get("error_code") if isinstance(data.get("error_code"), int) else status
    description = str(data.get("description") or f"HTTP {status}")
    parameters = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
    reason = f"Telegram {method}: {description}"
    if code == 429:
        retry_after = parameters.get("retry_after")
        return RateLimited(reason, retry_after=float(retry_after) if retry_after is not None else None)
    if code >= 500:
        return TransientError(reason)
    if code in (401, 404):
        # Telegram answers 401 for a revoked token and 404 for a malformed one.
        return PayloadRejected(f"the bot token was refused by Telegram ({reason})")
    if code == 409:
        return PayloadRejected(
            f"{reason}: a bot receives updates either by webhook or by getUpdates, not both; "
            "set the channel's 'receive' setting to match (or delete the webhook)"
        )
    if parameters.get("migrate_to_chat_id"):
        return PayloadRejected(
            f"{reason}: the group is now the supergroup {parameters['migrate_to_chat_id']}"
        )
    # 403 "Forbidden: bot was blocked by the user", 400 "Bad Request: chat not found"...
    return PayloadRejected(reason)
