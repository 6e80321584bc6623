"""A fake Twilio Programmable Messaging API and Twilio's webhooks, shaped as Twilio documents them.

- REST (https://www.twilio.com/docs/messaging/api/message-resource): `POST /2010-04-01/Accounts/{Sid}/
  Messages.json` (basic auth Account SID : auth token) answers 201 with a Message resource; `GET
  /Accounts/{Sid}.json` and `GET .../IncomingPhoneNumbers.json?PhoneNumber=` for "Test connection". Errors
  as Twilio writes them: `{"code", "message", "more_info", "status"}` (20003 on bad credentials, 20429 on
  too many requests); `fake.next_responses` answers the next requests instead.
- Webhooks (https://www.twilio.com/docs/messaging/guides/webhook-request): form-encoded incoming messages
  and status callbacks, signed as Twilio signs them (https://www.twilio.com/docs/usage/webhooks/
  webhooks-security; written here independently of the connector, and checked against twilio-python's own
  test vector in tests/connectors/twilio/test_signature.py). `fake.callback(sid, status)` posts a status
  callback to the StatusCallback URL the connector gave, as Twilio does when the carrier reports.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import urllib.error
import urllib.parse
import urllib.request

from tests.fakes.http import FakePlatform, RecordedRequest, Response

ACCOUNT_SID = "AC" + "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
AUTH_TOKEN = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
TWILIO_NUMBER = "+15017122661"
CUSTOMER_NUMBER = "+14155552671"
DATE = "Thu, 24 Aug 2023 05:01:45 +0000"


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's X-Twilio-Signature: the URL, then each parameter's name and value sorted by name, HMAC-SHA1
    with the auth token, in Base64."""
    data = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def incoming_sms(sid: str, body: str, *, sender: str = CUSTOMER_NUMBER, media: list[tuple[str, str]] = ()):
    """An incoming message webhook's parameters, as in Twilio's "Twilio's request to your incoming message
    Webhook URL" (www.twilio.com/docs/messaging/guides/webhook-request): every parameter it lists."""
    params = {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": str(len(media)),
        "ToCity": "SAN FRANCISCO",
        "FromZip": "94105",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": body,
        "FromCountry": "US",
        "To": TWILIO_NUMBER,
        "ToZip": "94105",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    for index, (url, content_type) in enumerate(media):
        params[f"MediaUrl{index}"] = url
        params[f"MediaContentType{index}"] = content_type
    return params


def status_callback(sid: str, status: str, *, error_code: str = "", to: str = CUSTOMER_NUMBER) -> dict:
    """A status callback's parameters (www.twilio.com/docs/messaging/guides/track-outbound-message-status):
    MessageStatus and, for undelivered and failed messages, ErrorCode."""
    params = {
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": to,
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": TWILIO_NUMBER,
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        params["ErrorCode"] = error_code
    return params


def error_body(status: int, code: int, message: str) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def post_signed(url: str, params: dict[str, str], *, token: str = AUTH_TOKEN, signature: str | None = None):
    """POST a webhook as Twilio does (urllib: a real HTTP request); returns (status, content type, body)."""
    body = urllib.parse.urlencode(params).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "TwilioProxy/1.1"}
    headers["X-Twilio-Signature"] = (
        signature if signature is not None else twilio_signature(token, url, params)
    )
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


class FakeTwilio(FakePlatform):
    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN):
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        self.sent: list[dict] = []  # the form of each message created
        self.status_callbacks: dict[str, str] = {}  # message sid → the StatusCallback URL it was given
        self._sids = (f"SM{n:032x}" for n in itertools.count(0xA000))
        prefix = r"/2010-04-01/Accounts/(?P<sid>AC\w+)"
        self.server.route("POST", prefix + r"/Messages\.json", self._create)
        self.server.route("GET", prefix + r"\.json", self._account)
        self.server.route("GET", prefix + r"/IncomingPhoneNumbers\.json", self._numbers)

    def _refused(self, request: RecordedRequest) -> Response | None:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("authorization") != expected or request.match["sid"] != self.account_sid:
            return Response(401, error_body(401, 20003, "Authenticate"))
        if self.next_responses:
            return self.next_responses.pop(0)
        return None

    def _create(self, request: RecordedRequest):
        if refused := self._refused(request):
            return refused
        form = {name: values[-1] for name, values in request.form().items()}
        if not form.get("To") or not form.get("Body"):
            return 400, error_body(400, 21602, "Message body is required.")
        self.sent.append(form)
        sid = next(self._sids)
        self.status_callbacks[sid] = form.get("StatusCallback", "")
        return 201, {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": DATE,
            "date_sent": None,
            "date_updated": DATE,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
            "to": form["To"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }

    def _account(self, request: RecordedRequest):
        if refused := self._refused(request):
            return refused
        return 200, {
            "sid": self.account_sid,
            "friendly_name": "Nimbus Support",
            "status": "active",
            "type": "Full",
        }

    def _numbers(self, request: RecordedRequest):
        if refused := self._refused(request):
            return refused
        wanted = (request.query.get("PhoneNumber") or [""])[0]
        numbers = (
            [
                {
                    "phone_number": TWILIO_NUMBER,
                    "sms_url": "https://cxm.example/hooks/…/",
                    "sid": "PN" + "0" * 32,
                }
            ]
            if wanted == TWILIO_NUMBER
            else []
        )
        return 200, {"incoming_phone_numbers": numbers, "page": 0, "page_size": 50}

    def callback(self, sid: str, status: str, **kwargs):
        """Post the status callback of a message sent through this fake to the StatusCallback it was given."""
        url = self.status_callbacks[sid]
        return post_signed(url, status_callback(sid, status, **kwargs), token=self.auth_token)
