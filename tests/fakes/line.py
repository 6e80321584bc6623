"""A fake LINE Messaging API (https://developers.line.biz/en/reference/messaging-api/), api.line.me and
api-data.line.me on one server, and webhook bodies shaped as documented.

    with FakeLine() as line:
        channel.settings = {"api_base": line.url, "data_api_base": line.url}
        line.profiles[USER_ID] = {...}
        ... line.pushed, line.replied ...

Errors are answered as LINE does: `{"message": "…", "details": [...]}` with its status; `next_responses`
queues answers given instead of the next calls (429 rate limit, a body that is not JSON...).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time

from tests.fakes.http import FakePlatform, RecordedRequest, Response

TOKEN = "line-channel-access-token-0123456789"
SECRET = "8c570fa6dd201bb328f1c1eac23a96d8"
USER_ID = "U206d25c2ea6bd87c17655609a1c37cb8"
BOT_INFO = {
    "userId": "Ub9952f8e5b1d6c9b3e2b1a8e2e9b1a8e",
    "basicId": "@216ru...",
    "displayName": "Nimbus Support",
    "pictureUrl": "https://profile.line-scdn.net/abcdefghijklmn",
    "chatMode": "chat",
    "markAsReadMode": "manual",
}
# 1x1 PNG: what the content endpoint answers for an image.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
INVALID_TOKEN = {
    "message": "Authentication failed due to the following reason: invalid token. "
    "Confirm that the access token in the authorization header is valid."
}


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def webhook(*events: dict, destination: str = BOT_INFO["userId"]) -> dict:
    return {"destination": destination, "events": list(events)}


_event_ids = itertools.count(1)


def event(
    kind: str, *, source: dict | None = None, reply_token: str | None = None, at_ms=None, **fields
) -> dict:
    body = {
        "type": kind,
        "mode": "active",
        "timestamp": at_ms if at_ms is not None else int(time.time() * 1000),
        "source": source or {"type": "user", "userId": USER_ID},
        "webhookEventId": f"01FZ74A0TDDPYRVKNK77XKC3ZR{next(_event_ids):04d}",
        "deliveryContext": {"isRedelivery": False},
        **fields,
    }
    if reply_token:
        body["replyToken"] = reply_token
    return body


def text_event(message_id: str, text: str, **kwargs) -> dict:
    kwargs.setdefault("reply_token", f"reply-{message_id}")
    return event(
        "message",
        message={"id": message_id, "type": "text", "text": text, "quoteToken": f"q{message_id}"},
        **kwargs,
    )


class FakeLine(FakePlatform):
    def __init__(self, token: str = TOKEN):
        super().__init__()
        self.token = token
        self.profiles: dict[str, dict] = {
            USER_ID: {
                "displayName": "Ana Lima",
                "userId": USER_ID,
                "language": "pt-BR",
                "pictureUrl": "https://profile.line-scdn.net/ch/v2/p/ana",
                "statusMessage": "Hello, LINE!",
            }
        }
        self.contents: dict[str, tuple[int, bytes, str]] = {}  # message id → (status, bytes, content type)
        self.replied: list[dict] = []
        self.pushed: list[dict] = []
        self.used_reply_tokens: set[str] = set()
        self.retry_keys: dict[str, str] = {}
        self.webhook_endpoint = {"endpoint": "https://cxm.example/hooks/x/", "active": True}
        self._ids = itertools.count(461230966842064897)
        route = self.server.route
        route("GET", r"/v2/bot/info", lambda r: self._guard(r) or (200, BOT_INFO))
        route(
            "GET",
            r"/v2/bot/channel/webhook/endpoint",
            lambda r: self._guard(r) or (200, self.webhook_endpoint),
        )
        route("GET", r"/v2/bot/profile/(?P<user>\w+)", self._profile)
        route("GET", r"/v2/bot/(group|room)/(?P<chat>\w+)/member/(?P<user>\w+)", self._profile)
        route("GET", r"/v2/bot/message/(?P<id>\w+)/content", self._content)
        route("POST", r"/v2/bot/message/reply", self._reply)
        route("POST", r"/v2/bot/message/push", self._push)

    def _guard(self, request: RecordedRequest) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Response(401, INVALID_TOKEN)
        if self.next_responses:
            return self.next_responses.pop(0)
        return None

    def _profile(self, request: RecordedRequest):
        if refused := self._guard(request):
            return refused
        found = self.profiles.get(request.match["user"])
        return (200, found) if found else (404, {"message": "Not found"})

    def _content(self, request: RecordedRequest):
        if refused := self._guard(request):
            return refused
        status, data, content_type = self.contents.get(request.match["id"], (404, b"", ""))
        if status == 404:
            return 404, {"message": "Not found"}
        return Response(status, data, {"Content-Type": content_type})

    def _sent(self) -> dict:
        return {"sentMessages": [{"id": str(next(self._ids)), "quoteToken": "IStG5h1Tz7b..."}]}

    def _reply(self, request: RecordedRequest):
        if refused := self._guard(request):
            return refused
        body = request.json()
        token = body.get("replyToken")
        if not token or token in self.used_reply_tokens:
            return 400, {"message": "Invalid reply token"}
        self.used_reply_tokens.add(token)
        self.replied.append(body)
        return 200, self._sent()

    def _push(self, request: RecordedRequest):
        if refused := self._guard(request):
            return refused
        key = request.headers.get("x-line-retry-key")
        if key and key in self.retry_keys:
            return Response(
                409,
                {"message": "The retry key is already accepted"},
                {"x-line-accepted-request-id": self.retry_keys[key]},
            )
        body = request.json()
        if not str(body.get("to") or "").startswith(("U", "C", "R")):
            return 400, {
                "message": "The request body has 1 error(s)",
                "details": [{"message": "invalid", "property": "to"}],
            }
        if key:
            self.retry_keys[key] = f"req-{len(self.retry_keys) + 1}"
        self.pushed.append(body)
        return 200, self._sent()

    @staticmethod
    def body(payload: dict) -> bytes:
        return json.dumps(payload).encode()
