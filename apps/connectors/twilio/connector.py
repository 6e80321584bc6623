"""SMS and MMS through Twilio Programmable Messaging: signed webhooks in, the Messages API out.

Twilio posts `application/x-www-form-urlencoded` requests to the channel's webhook URL:
- an incoming message: MessageSid, AccountSid, From, To, Body, NumMedia, NumSegments, MediaUrl0..N and
  MediaContentType0..N (MMS), the sender's FromCity/FromState/FromCountry...; stored as a message of the
  sender's conversation (thread = the sender's number in E.164), media in `metadata["media"]`;
- a status callback of a message CXM sent (the StatusCallback it gave): MessageSid, MessageStatus
  (queued, sending, sent, delivered, undelivered, failed, read, canceled...) and ErrorCode; applied to the
  outbound message's delivery status (undelivered and failed with the error's meaning).
Both carry X-Twilio-Signature: Base64(HMAC-SHA1(auth token, URL + each POST parameter's name and value,
sorted by name)), with the URL exactly as configured in Twilio (twilio-python's RequestValidator: tried
without, then with the scheme's default port). Twilio expects an answer in TwiML: an empty <Response/>
sends no automatic reply.

Replies: POST /2010-04-01/Accounts/{AccountSid}/Messages.json (basic auth: Account SID and auth token),
with the channel's number (or Messaging Service) as sender and this webhook URL as StatusCallback. Twilio's
errors ({"code", "message", "more_info", "status"}): 429 / 20429 → retried after a while, 20003 (401) →
the credentials are refused: the channel's admin must fix them; others fail the message with the reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import httpx

from ..base import (
    Connector,
    DeliveryUpdate,
    Ignored,
    InboundMessage,
    Interpretation,
    PayloadRejected,
    RateLimited,
    TransientError,
    WebhookForbidden,
)
from ..http import TIMEOUT, delay_seconds, public_client, send
from ..kinds import ChannelKind
from ..normalized import clean_text
from ..setup import URL, Setting, WebhookGuide, api_base
from ..sms import MAX_SMS_CHARS, e164, recipient_number, reply_text, sms_author, webhook_url

DEFAULT_API_BASE = "https://api.twilio.com"
SIGNATURE_HEADER = "x-twilio-signature"
# Twilio's answer to a webhook: TwiML, empty, so that Twilio sends nothing back by itself.
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_MEDIA = 10  # an MMS carries at most 10 media
STATUS_TO_DELIVERY = {
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",  # WhatsApp and RCS senders report reads
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
    # queued, accepted, scheduled, sending: on the way; the message already shows "sent to Twilio".
}
# The error codes of status callbacks, as Twilio's error dictionary names them (www.twilio.com/docs/errors).
ERROR_CODES = {
    "30001": "queue overflow",
    "30002": "account suspended",
    "30003": "unreachable destination handset",
    "30004": "message blocked (the recipient blocked it or opted out)",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "30007": "message filtered by the carrier",
    "30008": "unknown error",
    "30034": "message from an unregistered number (US A2P 10DLC)",
    "21610": "the recipient replied STOP: they unsubscribed",
}


def signature(token: str, url: str, params: list[tuple[str, str]]) -> str:
    """X-Twilio-Signature of a POST to `url` with `params` (twilio-python's compute_signature: each name
    once, sorted, followed by its values, sorted)."""
    values: dict[str, list[str]] = {}
    for name, value in params:
        values.setdefault(name, []).append(value)
    data = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    """The URL as given, without its port, and with the scheme's default port: Twilio signs the URL as it
    was configured, which the proxies in between may have written either way."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default_port = 443 if parts.scheme == "https" else 80
    bare = parts._replace(netloc=host).geturl()
    with_port = parts._replace(netloc=f"{host}:{parts.port or default_port}").geturl()
    return list(dict.fromkeys([url, bare, with_port]))


def form(body: bytes) -> dict[str, str]:
    """The POST parameters (the last value of a repeated one, which Twilio never sends)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PayloadRejected(f"payload is not valid UTF-8 (byte {error.start}: {error.reason})") from None
    return dict(parse_qsl(text, keep_blank_values=True))


def _media(params: dict[str, str]) -> list[dict]:
    try:
        count = min(int(params.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError:
        raise PayloadRejected(f"NumMedia is not a number: {params.get('NumMedia')[:20]!r}") from None
    media = []
    for index in range(count):
        url = params.get(f"MediaUrl{index}", "")
        if url:
            media.append({"url": url, "content_type": params.get(f"MediaContentType{index}", "")})
    return media


def _media_label(media: list[dict]) -> str:
    kinds = [item["content_type"].split("/")[0] or "file" for item in media]
    return " ".join(f"[{kind}]" for kind in kinds)


def _error(code: str, message: str = "") -> str:
    meaning = ERROR_CODES.get(code, message)
    return f"Twilio error {code}" + (f": {meaning}" if meaning else "")


class TwilioSmsConnector(Connector):
    kind = ChannelKind.SMS_TWILIO
    receives_webhooks = True
    # What the reply composer checks (apps/replies/limits.py): Twilio takes a Body of 1600 characters
    # (split in segments by Twilio); an SMS reaches a customer whose number this channel knows.
    limits = {"max_length": MAX_SMS_CHARS, "reaches": "customer"}
    setup_fields = (
        Setting(
            "account_sid",
            "Account SID",
            credential=True,
            required=True,
            help="Twilio Console → Account info: “AC” followed by 32 letters and digits.",
        ),
        Setting(
            "auth_token",
            "Auth token",
            secret=True,
            required=True,
            help="Twilio Console → Account info. Twilio signs its webhooks with it (X-Twilio-Signature).",
        ),
        Setting(
            "phone_number",
            "Twilio phone number",
            help="The number replies are sent from, in E.164 (+14155550100).",
        ),
        Setting(
            "messaging_service_sid",
            "Messaging Service SID",
            help="Optional: send replies through a Messaging Service (“MG…”) instead of the number.",
        ),
        Setting(
            "webhook_url",
            "Public webhook URL",
            URL,
            advanced=True,
            help="Only when Twilio reaches CXM through an address other than CXM_BASE_URL: the webhook URL "
            "exactly as entered in Twilio, which Twilio signs.",
        ),
        api_base("api_base", DEFAULT_API_BASE, "Twilio REST API"),
    )
    webhook_guide = WebhookGuide(
        steps=(
            "Twilio Console → Phone Numbers → Manage → Active numbers → your number (or your Messaging "
            "Service → Integration).",
            "Under “Messaging configuration”, “A message comes in”: Webhook, this URL, HTTP POST. Save.",
            "Send an SMS to the number; it appears in the inbox. Replies report their delivery to the same "
            "URL (status callbacks).",
        ),
    )

    # -- webhooks ------------------------------------------------------------------------------------------

    def verify_webhook(self, channel, headers: dict[str, str], body: bytes) -> None:
        token = str(channel.credentials.get("auth_token") or "")
        if not token:
            raise WebhookForbidden("the channel has no Twilio auth token configured", status=503)
        given = headers.get(SIGNATURE_HEADER, "")
        if not given:
            raise WebhookForbidden("missing X-Twilio-Signature header", status=401)
        try:
            params = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise WebhookForbidden("the body is not URL-encoded UTF-8, as Twilio signs it") from None
        for url in _url_variants(webhook_url(channel)):
            if hmac.compare_digest(signature(token, url, params).encode(), given.encode()):
                return
        raise WebhookForbidden(
            "X-Twilio-Signature does not match the channel's auth token and webhook URL "
            f"({webhook_url(channel)})"
        )

    def webhook_answer(self) -> tuple[str, bytes]:
        return "text/xml", EMPTY_TWIML

    def payload_external_id(self, channel, body: bytes, headers: dict[str, str]) -> str | None:
        try:
            params = form(body)
        except PayloadRejected:
            return None
        sid = params.get("MessageSid") or params.get("SmsSid")
        if not sid:
            return None
        status = params.get("MessageStatus")
        # One message has several status callbacks, each a delivery of its own.
        return f"{sid}:{status}" if status and "Body" not in params else sid

    def interpret(self, channel, body: bytes, headers: dict[str, str]) -> Interpretation:
        params = form(body)
        account = str(channel.credentials.get("account_sid") or "")
        if account and params.get("AccountSid") and params["AccountSid"] != account:
            raise PayloadRejected(f"a webhook of another Twilio account ({params['AccountSid'][:40]})")
        sid = params.get("MessageSid") or params.get("SmsSid") or ""
        if not sid:
            raise PayloadRejected("a Twilio messaging webhook needs a MessageSid")
        status = params.get("MessageStatus") or ""
        # Incoming messages carry Body and NumMedia (and SmsStatus "received"); callbacks a MessageStatus.
        if "Body" not in params and "NumMedia" not in params:
            if not status:
                raise PayloadRejected("neither an incoming message (Body) nor a status (MessageStatus)")
            return self._status(params, sid, status)
        sender = params.get("From", "")
        if sender.startswith(("whatsapp:", "messenger:", "rcs:")):
            channel_name = sender.split(":", 1)[0]
            return Interpretation(
                ignored=[
                    Ignored(
                        f"{channel_name} message",
                        f"a {channel_name} message through Twilio; this channel reads SMS and MMS only",
                    )
                ]
            )
        number = e164(sender)
        if not number:
            raise PayloadRejected(f"the sender is not a phone number: {sender[:40]!r}")
        media = _media(params)
        text = clean_text(params.get("Body", ""), "Body") or _media_label(media)
        if not text:
            return Interpretation(ignored=[Ignored("empty message", "an SMS with no text and no media")])
        metadata: dict = {"source": "twilio", "to": params.get("To", "")}
        if media:
            metadata["media"] = media
        # OptOutType (STOP, START, HELP): Twilio's Advanced Opt-Out handled a keyword; Twilio itself
        # refuses later messages to a number that sent STOP (error 21610).
        for key in (
            "NumSegments",
            "FromCity",
            "FromState",
            "FromCountry",
            "MessagingServiceSid",
            "OptOutType",
        ):
            if params.get(key):
                metadata[key] = params[key]
        return Interpretation(
            messages=[
                InboundMessage(
                    external_id=sid,
                    thread_key=number,
                    text=text,
                    # Twilio's webhooks carry no time: the message arrived now.
                    sent_at=datetime.now(UTC),
                    author=sms_author(number),
                    metadata=metadata,
                )
            ]
        )

    def _status(self, params: dict[str, str], sid: str, status: str) -> Interpretation:
        code = params.get("ErrorCode", "")
        delivery = STATUS_TO_DELIVERY.get(status, "")
        return Interpretation(
            receipts=[
                DeliveryUpdate(
                    external_id=sid,
                    status=delivery,
                    platform_status=status,
                    at=datetime.now(UTC),
                    recipient=params.get("To", ""),
                    error=_error(code, params.get("ErrorMessage", ""))
                    if code and delivery == "failed"
                    else "",
                )
            ]
        )

    # -- REST API -----------------------------------------------------------------------------------------

    def _call(
        self,
        channel,
        method: str,
        path: str,
        *,
        what: str,
        data: dict | None = None,
        params: dict | None = None,
    ) -> dict:
        account = str(channel.credentials.get("account_sid") or "")
        token = str(channel.credentials.get("auth_token") or "")
        if not account or not token:
            raise PayloadRejected("the channel has no Twilio Account SID and auth token")
        base = (channel.settings.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        url = f"{base}/2010-04-01/Accounts/{account}{path}"
        with public_client(timeout=TIMEOUT) as http:
            response = send(
                http, method, url, platform="Twilio", auth=(account, token), data=data, params=params
            )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code >= 400:
            raise _api_error(response, answer if isinstance(answer, dict) else {}, what)
        if not isinstance(answer, dict):
            # Not retried: a send Twilio took but answered strangely would go out twice.
            raise PayloadRejected(
                f"Twilio answered {what} (HTTP {response.status_code}) with a body that is not a JSON object"
            )
        return answer

    def check(self, channel) -> str:
        """The account (GET /Accounts/{sid}.json: the credentials work), then the channel's number among
        the account's numbers, and that unsigned webhooks are refused."""
        account = self._call(channel, "GET", ".json", what="the account")
        found = f"connected to “{account.get('friendly_name') or account.get('sid')}”"
        if account.get("status") and account["status"] != "active":
            found += f" (account {account['status']})"
        number = str(channel.settings.get("phone_number") or "")
        if number:
            # A "+" in a query must be encoded (a bare one reads as a space): httpx encodes params.
            numbers = self._call(
                channel,
                "GET",
                "/IncomingPhoneNumbers.json",
                what="the account's numbers",
                params={"PhoneNumber": e164(number) or number},
            ).get("incoming_phone_numbers")
            if not numbers:
                raise PayloadRejected(f"{number} is not a number of this Twilio account")
            sms_url = numbers[0].get("sms_url") if isinstance(numbers[0], dict) else ""
            found += f"; {number} delivers to {sms_url or 'no webhook yet'}"
        super().check(channel)
        return found

    def send(self, channel, message, reply_to: str = "") -> str:
        """POST Messages.json; returns the message's SID, which status callbacks name."""
        text = reply_text(message, platform="Twilio")
        to = e164(recipient_number(channel, message))
        if not to:
            raise PayloadRejected("the customer's number is not a phone number in E.164")
        data = {"To": to, "Body": text, "StatusCallback": webhook_url(channel)}
        service = str(channel.settings.get("messaging_service_sid") or "")
        if service:
            data["MessagingServiceSid"] = service
        elif channel.settings.get("phone_number"):
            data["From"] = str(channel.settings["phone_number"])
        else:
            raise PayloadRejected("the channel has no Twilio number or Messaging Service to send from")
        answer = self._call(channel, "POST", "/Messages.json", what="the message", data=data)
        if not answer.get("sid"):
            raise PayloadRejected("Twilio answered the message without its sid")
        if answer.get("status") == "failed" and answer.get("error_code"):
            raise PayloadRejected(_error(str(answer["error_code"]), str(answer.get("error_message") or "")))
        return str(answer["sid"])


def _api_error(response: httpx.Response, answer: dict, what: str) -> Exception:
    code = str(answer.get("code") or "")
    reason = f"Twilio refused {what} (HTTP {response.status_code}"
    reason += f", error {code}): " if code else "): "
    reason += str(answer.get("message") or response.text[:200]).strip()
    if response.status_code == 429 or code == "20429":
        retry = delay_seconds(response.headers.get("retry-after"))
        return RateLimited(reason, retry_after=retry or 60.0)
    if response.status_code == 401 or code == "20003":
        return PayloadRejected(
            f"{reason} — the Account SID or auth token is wrong or was rotated: fix it on the channel"
        )
    if response.status_code >= 500:
        return TransientError(reason)
    return PayloadRejected(reason)
