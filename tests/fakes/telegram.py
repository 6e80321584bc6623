"""A fake Telegram Bot API (https://core.telegram.org/bots/api) and Update samples shaped as documented.

    with FakeTelegram(token=TOKEN) as telegram:
        channel.settings = {"api_base": telegram.url}
        telegram.updates.append(private_text_update(1, "hello"))
        ...
        assert telegram.sent[0]["text"] == "…"

`fail_next(status, description, **parameters)` makes the next call answer an error the way Telegram
does: `{"ok": false, "error_code", "description", "parameters": ResponseParameters}`.
"""

from __future__ import annotations

import itertools

from tests.fakes.http import FakeHTTPServer, RecordedRequest

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Nimbus Support", "username": "nimbus_support_bot"}
DATE = 1764072000  # 2025-11-25T12:00:00Z

CUSTOMER = {
    "id": 987654321,
    "is_bot": False,
    "first_name": "Ana",
    "last_name": "Lima",
    "username": "analima",
    "language_code": "pt-br",
}


class FakeTelegram:
    def __init__(self, token: str = TOKEN):
        self.token = token
        self.server = FakeHTTPServer()
        self.updates: list[dict] = []  # pending updates, as getUpdates would return them
        self.sent: list[dict] = []  # sendMessage parameters received
        self.webhook: dict = {}  # what setWebhook set (url, secret_token), as getWebhookInfo reports it
        self.errors: list[tuple[int, dict]] = []
        self._message_ids = itertools.count(5000)
        self.server.route("POST", r"/bot(?P<token>[^/]+)/(?P<method>\w+)", self._handle)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.server.requests

    def fail_next(self, status: int, description: str, **parameters) -> None:
        body = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        self.errors.append((status, body))

    def _handle(self, request: RecordedRequest):
        if request.match["token"] != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if self.errors:
            return self.errors.pop(0)
        method = request.match["method"]
        params = request.json() or {}
        if method == "getUpdates":
            offset = params.get("offset")
            if offset is not None:
                # An offset confirms every update before it: Telegram forgets them.
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
            return 200, {"ok": True, "result": self.updates[: params.get("limit", 100)]}
        if method == "getMe":
            return 200, {"ok": True, "result": BOT_USER}
        if method == "setWebhook":
            if not str(params.get("url") or "").startswith("https://") and params.get("url"):
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
                }
            self.webhook = {"url": params.get("url") or "", "secret_token": params.get("secret_token")}
            return 200, {"ok": True, "result": True, "description": "Webhook was set"}
        if method == "getWebhookInfo":
            info = {"url": self.webhook.get("url", ""), "has_custom_certificate": False}
            info["pending_update_count"] = len(self.updates)
            return 200, {"ok": True, "result": info}
        if method == "sendMessage":
            if not str(params.get("text") or "").strip():
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message text is empty",
                }
            self.sent.append(params)
            chat_id = params["chat_id"]
            result = {
                "message_id": next(self._message_ids),
                "from": BOT_USER,
                "chat": {"id": int(chat_id), "type": "private" if int(chat_id) > 0 else "supergroup"},
                "date": DATE + 60,
                "text": params["text"],
            }
            return 200, {"ok": True, "result": result}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    def __enter__(self) -> FakeTelegram:
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)


# Update samples, as the Bot API documents them.


def message_update(update_id: int, message: dict, *, field: str = "message") -> dict:
    return {"update_id": update_id, field: message}


def private_message(
    message_id: int, text: str | None = "Hello, my order has not arrived", *, user=None, date=DATE, **extra
) -> dict:
    user = user or CUSTOMER
    message = {
        "message_id": message_id,
        "from": user,
        "chat": {
            "id": user["id"],
            "first_name": user.get("first_name", ""),
            "last_name": user.get("last_name", ""),
            "username": user.get("username", ""),
            "type": "private",
        },
        "date": date,
    }
    if text is not None:
        message["text"] = text
    message.update(extra)
    return message


def private_text_update(update_id: int, text: str = "Hello, my order has not arrived", **kwargs) -> dict:
    return message_update(update_id, private_message(update_id + 100, text, **kwargs))


def group_message(message_id: int, text: str, *, user=None, chat_id: int = -1001234567890) -> dict:
    return {
        "message_id": message_id,
        "from": user or CUSTOMER,
        "chat": {"id": chat_id, "title": "Nimbus Owners Club", "type": "supergroup"},
        "date": DATE,
        "text": text,
    }


def photo_sizes() -> list[dict]:
    return [
        {
            "file_id": "AgACAgQAAxkBAAIBsmall",
            "file_unique_id": "AQADsmall",
            "file_size": 1200,
            "width": 90,
            "height": 67,
        },
        {
            "file_id": "AgACAgQAAxkBAAIBlarge",
            "file_unique_id": "AQADlarge",
            "file_size": 98000,
            "width": 1280,
            "height": 960,
        },
    ]


def my_chat_member_update(update_id: int) -> dict:
    return {
        "update_id": update_id,
        "my_chat_member": {
            "chat": {"id": CUSTOMER["id"], "first_name": "Ana", "type": "private"},
            "from": CUSTOMER,
            "date": DATE,
            "old_chat_member": {"user": BOT_USER, "status": "member"},
            "new_chat_member": {"user": BOT_USER, "status": "kicked", "until_date": 0},
        },
    }
