"""A fake Graph API (Messenger Send API, comment replies, WhatsApp Cloud API) and webhook samples shaped
as Meta documents them (Webhooks for Pages / Messenger Platform / Instagram / WhatsApp Cloud API).

    with FakeGraph(token=PAGE_TOKEN) as graph:
        channel.settings = {"graph_base": graph.url, "graph_version": "v21.0"}
        ...
        assert graph.requests[-1].json()["recipient"] == {"id": PSID}

`fail_next(status, code, message, subcode=None, headers=None)` makes the next call answer a Graph error:
`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.
"""

from __future__ import annotations

import itertools
import json

from apps.connectors.meta.webhooks import sign
from tests.fakes.http import FakeHTTPServer, RecordedRequest, Response

VERSION = "v21.0"
APP_SECRET = "0123456789abcdef0123456789abcdef"
VERIFY_TOKEN = "cxm-verify-me"
PAGE_TOKEN = "EAAGm0PX4ZCpsBAPageToken"
PAGE_ID = "104520002345678"
IG_ACCOUNT_ID = "17841405822304914"
WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE = "15550783881"
PSID = "6912345678901234"
IGSID = "1234567890123456"
WA_ID = "16505551234"
TIME_MS = 1764072000000  # 2025-11-25T12:00:00Z
TIME_S = TIME_MS // 1000


class FakeGraph:
    def __init__(self, token: str = PAGE_TOKEN, version: str = VERSION):
        self.token = token
        self.server = FakeHTTPServer()
        self.errors: list[Response] = []
        self._ids = itertools.count(1)
        prefix = rf"/{version}"
        self.server.route("POST", rf"{prefix}/me/messages", self._send_api)
        self.server.route("POST", rf"{prefix}/(?P<phone>\d+)/messages", self._whatsapp)
        self.server.route("POST", rf"{prefix}/(?P<object>[\w.-]+)/comments", self._comment)
        self.server.route("POST", rf"{prefix}/(?P<object>[\w.-]+)/replies", self._comment)
        # Reading a node: the Page (or Instagram account) a token stands for, or a WhatsApp number.
        self.server.route("GET", rf"{prefix}/me", self._me)
        self.server.route("GET", rf"{prefix}/(?P<phone>\d+)", self._phone_number)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.server.requests

    def fail_next(self, status: int, code: int, message: str, *, subcode=None, headers=None, **extra) -> None:
        error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf123"}
        if subcode is not None:
            error["error_subcode"] = subcode
        error.update(extra)
        self.errors.append(Response(status, {"error": error}, headers or {}))

    def _check(self, request: RecordedRequest) -> Response | None:
        if self.errors:
            return self.errors.pop(0)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Response(
                400,
                {
                    "error": {
                        "message": "Invalid OAuth access token - Cannot parse access token",
                        "type": "OAuthException",
                        "code": 190,
                        "fbtrace_id": "AbCdEf123",
                    }
                },
            )
        return None

    def _send_api(self, request: RecordedRequest):
        if refused := self._check(request):
            return refused
        body = request.json()
        return 200, {"recipient_id": body["recipient"]["id"], "message_id": f"m_sent{next(self._ids)}"}

    def _whatsapp(self, request: RecordedRequest):
        if refused := self._check(request):
            return refused
        body = request.json()
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": body["to"]}],
            "messages": [{"id": f"wamid.SENT{next(self._ids)}"}],
        }

    def _me(self, request: RecordedRequest):
        if refused := self._check(request):
            return refused
        return 200, {"id": PAGE_ID, "name": "Nimbus Mobile"}

    def _phone_number(self, request: RecordedRequest):
        if refused := self._check(request):
            return refused
        if request.match["phone"] != PHONE_NUMBER_ID:
            return Response(
                400,
                {
                    "error": {
                        "message": f"Unsupported get request. Object with ID '{request.match['phone']}' does "
                        "not exist, cannot be loaded due to missing permissions, or does not support this "
                        "operation.",
                        "type": "GraphMethodException",
                        "code": 100,
                        "error_subcode": 33,
                        "fbtrace_id": "AbCdEf123",
                    }
                },
            )
        return 200, {
            "display_phone_number": DISPLAY_PHONE,
            "verified_name": "Nimbus Mobile",
            "id": PHONE_NUMBER_ID,
        }

    def _comment(self, request: RecordedRequest):
        if refused := self._check(request):
            return refused
        return 200, {"id": f"{request.match['object']}_reply{next(self._ids)}"}

    def __enter__(self) -> FakeGraph:
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)


def signed(payload, app_secret: str = APP_SECRET) -> tuple[bytes, str]:
    body = json.dumps(payload).encode()
    return body, sign(app_secret, body)


# Messenger Platform (object "page")


def messenger_text_event(
    mid: str, text: str, *, psid: str = PSID, timestamp: int = TIME_MS, **message
) -> dict:
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": timestamp,
        "message": {"mid": mid, "text": text, **message},
    }


def messenger_echo_event(
    mid: str, text: str, *, psid: str = PSID, app_id=263902037430900, metadata=None
) -> dict:
    message = {"is_echo": True, "app_id": app_id, "mid": mid, "text": text}
    if metadata is not None:
        message["metadata"] = metadata
    return {
        "sender": {"id": PAGE_ID},
        "recipient": {"id": psid},
        "timestamp": TIME_MS + 1000,
        "message": message,
    }


def page_entry(*, messaging=(), changes=(), page_id: str = PAGE_ID, time: int = TIME_MS) -> dict:
    entry = {"id": page_id, "time": time}
    if messaging:
        entry["messaging"] = list(messaging)
    if changes:
        entry["changes"] = list(changes)
    return entry


def page_webhook(*entries) -> dict:
    return {"object": "page", "entry": list(entries)}


def feed_comment_change(
    comment_id: str,
    message: str,
    *,
    post_id: str = f"{PAGE_ID}_555000111",
    parent_id: str | None = None,
    author=None,
    verb: str = "add",
    created_time: int = TIME_S,
) -> dict:
    return {
        "field": "feed",
        "value": {
            "from": author or {"id": "7301234567890", "name": "Jane Doe"},
            "post": {
                "status_type": "added_photos",
                "is_published": True,
                "updated_time": "2025-11-25T12:00:00+0000",
                "permalink_url": f"https://www.facebook.com/{post_id}",
                "promotion_status": "inactive",
                "id": post_id,
            },
            "message": message,
            "post_id": post_id,
            "comment_id": comment_id,
            "created_time": created_time,
            "item": "comment",
            "parent_id": parent_id or post_id,
            "verb": verb,
        },
    }


# Instagram (object "instagram")


def instagram_dm_event(mid: str, text: str, *, igsid: str = IGSID, **message) -> dict:
    return {
        "sender": {"id": igsid},
        "recipient": {"id": IG_ACCOUNT_ID},
        "timestamp": TIME_MS,
        "message": {"mid": mid, "text": text, **message},
    }


def instagram_comment_change(
    comment_id: str,
    text: str,
    *,
    media_id: str = "17895695668004550",
    author=None,
    parent_id: str | None = None,
    field: str = "comments",
) -> dict:
    value = {
        "from": author or {"id": IGSID, "username": "ana.lima"},
        "media": {"id": media_id, "media_product_type": "FEED"},
        "id": comment_id,
        "text": text,
    }
    if parent_id:
        value["parent_id"] = parent_id
    return {"field": field, "value": value}


def instagram_webhook(*, messaging=(), changes=(), account_id: str = IG_ACCOUNT_ID) -> dict:
    entry = {"id": account_id, "time": TIME_S}
    if messaging:
        entry["messaging"] = list(messaging)
    if changes:
        entry["changes"] = list(changes)
    return {"object": "instagram", "entry": [entry]}


# WhatsApp Cloud API (object "whatsapp_business_account")


def whatsapp_text(wamid: str, body: str, *, wa_id: str = WA_ID, timestamp: int = TIME_S, **extra) -> dict:
    return {
        "from": wa_id,
        "id": wamid,
        "timestamp": str(timestamp),
        "type": "text",
        "text": {"body": body},
        **extra,
    }


def whatsapp_value(
    *, messages=(), contacts=None, statuses=(), phone_number_id: str = PHONE_NUMBER_ID
) -> dict:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_PHONE, "phone_number_id": phone_number_id},
    }
    if messages:
        value["contacts"] = (
            contacts
            if contacts is not None
            else [{"profile": {"name": "Sheena Nelson"}, "wa_id": m["from"]} for m in messages]
        )
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return value


def whatsapp_webhook(*values) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"} for value in values]}],
    }


def whatsapp_status(wamid: str, status: str, *, errors=None) -> dict:
    item = {
        "id": wamid,
        "status": status,
        "timestamp": str(TIME_S + 5),
        "recipient_id": WA_ID,
        "conversation": {"id": "CONVERSATION_ID", "origin": {"type": "service"}},
        "pricing": {"billable": True, "pricing_model": "PMP", "category": "service"},
    }
    if errors:
        item["errors"] = errors
    return item
