"""A fake Vonage SMS API and Vonage's signed SMS webhooks, shaped as Vonage documents them.

- REST (developer.vonage.com/en/api/sms, the OpenAPI definition nexmo/api-specification definitions/sms.yml):
  `POST /sms/json` (api_key, api_secret, from, to, text, type, callback, client-ref) answers 200 with
  `{"message-count", "messages": [{"to", "message-id", "status": "0", "remaining-balance",
  "message-price", "network", "client-ref"}]}`, or a part whose status is not "0" with its `error-text`
  (1 Throttled, 4 Bad Credentials, 9 Partner Quota Violation...); `GET /account/get-balance` answers
  `{"value", "autoReload"}` ("Test connection"). `fake.next_responses` answers the next requests instead.
- Webhooks (developer.vonage.com/en/messaging/sms/guides/inbound-sms and .../delivery-receipts): inbound
  SMS and delivery receipts as JSON ("POST-JSON"), signed with the signature secret
  (developer.vonage.com/en/getting-started/concepts/signing-messages; written here independently of the
  connector and checked against the Vonage SDK's own test vector in tests/connectors/vonage).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request

from tests.fakes.http import FakePlatform, RecordedRequest, Response

API_KEY = "a1b2c3d4"
API_SECRET = "Vx9sQ2pL7mN4kR8t"
SIGNATURE_SECRET = "sig-secret-0123456789abcdef"
VONAGE_NUMBER = "447700900000"
CUSTOMER_MSISDN = "447700900123"


def vonage_sig(params: dict[str, str], secret: str = SIGNATURE_SECRET, method: str = "md5hash") -> str:
    """Vonage's `sig`: "&name=value" for each parameter sorted by name ("&" and "=" in values as "_"),
    MD5 of that plus the secret ("md5hash"), or its HMAC with the secret."""
    text = "".join(f"&{k}={str(params[k]).replace('&', '_').replace('=', '_')}" for k in sorted(params))
    if method == "md5hash":
        return hashlib.md5((text + secret).encode()).hexdigest()
    return hmac.new(secret.encode(), text.encode(), getattr(hashlib, method)).hexdigest()


def signed(params: dict[str, str], *, secret: str = SIGNATURE_SECRET, method: str = "md5hash") -> dict:
    params = {
        **params,
        "timestamp": params.get("timestamp") or str(int(time.time())),
        "nonce": "a1b2c3d4-e5f6",
    }
    return {**params, "sig": vonage_sig(params, secret, method)}


def inbound_sms(message_id: str, text: str, *, msisdn: str = CUSTOMER_MSISDN, kind: str = "text", **extra):
    """An inbound SMS as the Inbound SMS guide lists its properties (the sample delivery in
    gist.github.com/leggetter/2ea764759efec4d74f27a9eae5ad9e5e: keyword, message-timestamp, messageId,
    msisdn, text, to, type)."""
    params = {
        "api-key": API_KEY,
        "msisdn": msisdn,
        "to": VONAGE_NUMBER,
        "messageId": message_id,
        "text": text,
        "type": kind,
        "keyword": text.split(" ", 1)[0].upper() if text else "",
        "message-timestamp": "2026-11-25 12:00:00",
    }
    params.update(extra)
    return params


def delivery_receipt(message_id: str, status: str, *, err_code: str = "0") -> dict:
    """A delivery receipt (the DeliveryReceipt schema of the SMS API's OpenAPI definition)."""
    return {
        "msisdn": CUSTOMER_MSISDN,
        "to": VONAGE_NUMBER,
        "network-code": "23410",
        "messageId": message_id,
        "price": "0.03330000",
        "status": status,
        "scts": "2611251201",
        "err-code": err_code,
        "api-key": API_KEY,
        "message-timestamp": "2026-11-25 12:01:00",
    }


def post_json(url: str, params: dict):
    """POST a webhook as Vonage does with "POST-JSON"; returns (status, body)."""
    request = urllib.request.Request(
        url, data=json.dumps(params).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class FakeVonage(FakePlatform):
    def __init__(self, api_key: str = API_KEY, api_secret: str = API_SECRET):
        super().__init__()
        self.api_key, self.api_secret = api_key, api_secret
        self.sent: list[dict] = []
        self._ids = (f"0A0000000{n:07X}" for n in itertools.count(0x123ABCD))
        self.server.route("POST", r"/sms/json", self._send)
        self.server.route("GET", r"/account/get-balance", self._balance)

    def _send(self, request: RecordedRequest):
        form = {name: values[-1] for name, values in request.form().items()}
        if self.next_responses:
            return self.next_responses.pop(0)
        if form.get("api_key") != self.api_key or form.get("api_secret") != self.api_secret:
            return 200, {"message-count": "1", "messages": [{"status": "4", "error-text": "Bad Credentials"}]}
        if not form.get("to"):
            return 200, {
                "message-count": "1",
                "messages": [{"status": "2", "error-text": "Missing to param"}],
            }
        self.sent.append(form)
        message_id = next(self._ids)
        return 200, {
            "message-count": "1",
            "messages": [
                {
                    "to": form["to"],
                    "message-id": message_id,
                    "status": "0",
                    "remaining-balance": "3.14159265",
                    "message-price": "0.03330000",
                    "network": "23410",
                    "client-ref": form.get("client-ref", ""),
                }
            ],
        }

    def _balance(self, request: RecordedRequest):
        if self.next_responses:
            return self.next_responses.pop(0)
        key, secret = (request.query.get(name, [""])[0] for name in ("api_key", "api_secret"))
        if key != self.api_key or secret != self.api_secret:
            return Response(
                401,
                {
                    "type": "https://developer.nexmo.com/api-errors#unauthorized",
                    "title": "Unauthorized",
                    "detail": "You did not provide correct credentials.",
                },
            )
        return 200, {"value": 10.28, "autoReload": False}
