"""SMS through the Vonage (formerly Nexmo) SMS API: signed webhooks in, POST /sms/json out.

Vonage sends the channel's webhook by GET (the query string, the dashboard's default), POST (form fields)
or, with "POST-JSON", a JSON object:
- an inbound SMS: msisdn (the sender, digits without "+"), to, messageId, text, type (text, unicode or
  binary), keyword, message-timestamp ("2020-01-01 12:00:00", UTC), and for a long message sent in parts
  concat, concat-ref, concat-total, concat-part; stored as a message of the sender's conversation (each
  part as it comes, with its place in metadata); a binary SMS (no text) is ignored with that reason;
- a delivery receipt of a message CXM sent: messageId, msisdn (the recipient), status (delivered, expired,
  failed, rejected, accepted, buffered, unknown), err-code, scts; applied to the outbound message.
With signed webhooks (the account's signature secret; Settings → API settings), every request carries
`timestamp`, `nonce` and `sig`: sort the other parameters by name, write each as "&name=value" with "&"
and "=" in values replaced by "_", then either MD5 that text followed by the secret ("md5hash") or HMAC it
with the secret (md5, sha1, sha256, sha512), in hex. The timestamp must be within five minutes.

Replies: POST {api_base}/sms/json with api_key, api_secret, from, to, text (type unicode when needed) and
this webhook URL as the receipt `callback`. Vonage answers 200 with one status per part: 0 sent, 1
throttled (retried), 4 / 14 bad credentials or signature (the channel's admin must fix them), 9 out of
credit; the others fail the message with Vonage's error-text.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl

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
from ..setup import CHOICE, URL, Setting, WebhookGuide, api_base
from ..sms import MAX_SMS_CHARS, e164, recipient_number, reply_text, sms_author, webhook_url

DEFAULT_API_BASE = "https://rest.nexmo.com"
SIGNATURE_METHODS = ("md5hash", "md5", "sha1", "sha256", "sha512")
MAX_CLOCK_SKEW_SECONDS = 300
STATUS_TO_DELIVERY = {
    "delivered": "delivered",
    "expired": "failed",
    "failed": "failed",
    "rejected": "failed",
    # accepted, buffered: on the way; unknown: the carrier did not say.
}
# Delivery receipt error codes (developer.vonage.com, SMS delivery receipts).
RECEIPT_ERRORS = {
    "1": "unknown",
    "2": "absent subscriber (temporary)",
    "3": "absent subscriber (permanent)",
    "4": "call barred by the user",
    "5": "portability error",
    "6": "anti-spam rejection",
    "7": "handset busy",
    "8": "network error",
    "9": "illegal number",
    "10": "illegal message",
    "11": "unroutable",
    "12": "destination unreachable",
    "13": "subscriber age restriction",
    "14": "number blocked by the carrier",
    "15": "pre-paid insufficient funds",
    "99": "general error",
}
# Send statuses (the `status` of each part of POST /sms/json's answer).
THROTTLED = {"1", "10"}  # throttled; too many existing binds ("back off and retry")
TRANSIENT_STATUSES = {"5"}  # internal error
CREDENTIAL_STATUSES = {"4", "14"}  # invalid credentials, invalid signature
OUT_OF_CREDIT = "9"


def sign(params: dict[str, str], secret: str, method: str = "md5hash") -> str:
    """The `sig` of a parameter set (without `sig`), as Vonage computes it."""
    text = "".join(
        f"&{name}={str(params[name]).replace('&', '_').replace('=', '_')}" for name in sorted(params)
    )
    if method == "md5hash":
        return hashlib.md5((text + secret).encode()).hexdigest()
    return hmac.new(secret.encode(), text.encode(), getattr(hashlib, method)).hexdigest()


def params_of(body: bytes) -> dict[str, str]:
    """A webhook's parameters, from a JSON object (POST-JSON) or form fields (POST)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PayloadRejected(f"payload is not valid UTF-8 (byte {error.start}: {error.reason})") from None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise PayloadRejected(
                f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
            ) from None
        # Vonage's JSON sends scalars; a boolean (concat) is signed as Vonage writes it in a form.
        return {
            str(key): ("true" if value is True else "false" if value is False else str(value))
            for key, value in data.items()
            if value is not None and not isinstance(value, dict | list)
        }
    return dict(parse_qsl(text, keep_blank_values=True))


def _time(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return datetime.now(UTC)


class VonageSmsConnector(Connector):
    kind = ChannelKind.SMS_VONAGE
    receives_webhooks = True
    receives_get_deliveries = True  # "GET" is the dashboard's default HTTP method for SMS webhooks
    # What the reply composer checks (apps/replies/limits.py).
    limits = {"max_length": MAX_SMS_CHARS, "reaches": "customer"}
    setup_fields = (
        Setting("api_key", "API key", credential=True, required=True, help="Vonage API Dashboard → API key."),
        Setting(
            "api_secret", "API secret", secret=True, required=True, help="Vonage API Dashboard → API secret."
        ),
        Setting(
            "signature_secret",
            "Signature secret",
            secret=True,
            required=True,
            help="Dashboard → Settings → API settings → Signature secret (signed webhooks must be on).",
        ),
        Setting(
            "signature_method",
            "Signature method",
            CHOICE,
            choices=tuple(
                (method, method.upper() if method != "md5hash" else "MD5 hash")
                for method in SIGNATURE_METHODS
            ),
            default="md5hash",
            help="As set beside the signature secret in the dashboard.",
        ),
        Setting(
            "phone_number", "Vonage virtual number", required=True, help="The number replies are sent from."
        ),
        Setting(
            "webhook_url",
            "Public webhook URL",
            URL,
            advanced=True,
            help="Only when Vonage reaches CXM through an address other than CXM_BASE_URL: used as the "
            "delivery receipt URL of replies.",
        ),
        api_base("api_base", DEFAULT_API_BASE, "Vonage SMS API"),
    )
    webhook_guide = WebhookGuide(
        steps=(
            "Vonage API Dashboard → Settings → SMS settings: choose the SMS API, HTTP Method “POST-JSON” "
            "(GET and POST work too), and put this URL as “Inbound SMS webhooks” and “Delivery receipts”.",
            "Ask Vonage support to turn on signed webhooks, then copy the signature secret and method into "
            "this channel.",
            "Send an SMS to the number; it appears in the inbox.",
        ),
    )

    def verify_webhook(self, channel, headers: dict[str, str], body: bytes) -> None:
        secret = str(channel.credentials.get("signature_secret") or "")
        if not secret:
            raise WebhookForbidden("the channel has no Vonage signature secret configured", status=503)
        try:
            params = params_of(body)
        except PayloadRejected as error:
            raise WebhookForbidden(f"unreadable webhook: {error.reason}", status=400) from None
        given = params.pop("sig", "").lower()
        if not given:
            raise WebhookForbidden(
                "missing 'sig': turn signed webhooks on for the Vonage account", status=401
            )
        method = str(channel.settings.get("signature_method") or "md5hash")
        if method not in SIGNATURE_METHODS:
            raise WebhookForbidden(f"unknown signature method {method!r}", status=503)
        if not hmac.compare_digest(sign(params, secret, method).encode(), given.encode()):
            raise WebhookForbidden(f"'sig' does not match the channel's signature secret ({method})")
        try:
            skew = abs(time.time() - int(params.get("timestamp") or 0))
        except ValueError:
            skew = float("inf")
        if skew > MAX_CLOCK_SKEW_SECONDS:
            raise WebhookForbidden("the signed timestamp is more than five minutes off: a replayed request?")

    def payload_external_id(self, channel, body: bytes, headers: dict[str, str]) -> str | None:
        try:
            params = params_of(body)
        except PayloadRejected:
            return None
        message_id = params.get("messageId")
        if not message_id:
            return None
        return f"dlr:{message_id}:{params['status']}" if "status" in params else message_id

    def interpret(self, channel, body: bytes, headers: dict[str, str]) -> Interpretation:
        params = params_of(body)
        key = str(channel.credentials.get("api_key") or "")
        if key and params.get("api-key") and params["api-key"] != key:
            raise PayloadRejected(f"a webhook of another Vonage account ({params['api-key'][:40]})")
        message_id = params.get("messageId", "")
        if not message_id:
            raise PayloadRejected("a Vonage SMS webhook needs a messageId")
        if "status" in params and "text" not in params:
            return self._receipt(params, message_id)
        kind = params.get("type") or "text"
        if kind == "binary":
            return Interpretation(
                ignored=[Ignored("binary", "a binary SMS (data or WAP push for the handset), with no text")]
            )
        number = e164(params.get("msisdn", ""))
        if not number:
            raise PayloadRejected(f"the sender is not a phone number: {params.get('msisdn', '')[:40]!r}")
        text = clean_text(params.get("text", ""), "text")
        if not text:
            return Interpretation(ignored=[Ignored("empty message", "an SMS with no text")])
        metadata: dict = {"source": "vonage", "to": params.get("to", ""), "type": kind}
        if params.get("keyword"):
            metadata["keyword"] = params["keyword"]
        if params.get("concat") == "true":
            metadata["part"] = {
                "ref": params.get("concat-ref", ""),
                "number": params.get("concat-part", ""),
                "of": params.get("concat-total", ""),
            }
        return Interpretation(
            messages=[
                InboundMessage(
                    external_id=message_id,
                    thread_key=number,
                    text=text,
                    sent_at=_time(params.get("message-timestamp", "")),
                    author=sms_author(number),
                    metadata=metadata,
                )
            ]
        )

    def _receipt(self, params: dict[str, str], message_id: str) -> Interpretation:
        status = params.get("status", "")
        delivery = STATUS_TO_DELIVERY.get(status, "")
        code = params.get("err-code", "")
        error = ""
        if delivery == "failed":
            error = f"Vonage receipt {status}" + (
                f", error {code}: {RECEIPT_ERRORS.get(code, 'unknown')}" if code and code != "0" else ""
            )
        return Interpretation(
            receipts=[
                DeliveryUpdate(
                    external_id=message_id,
                    status=delivery,
                    platform_status=status,
                    at=_time(params.get("message-timestamp", "")),
                    recipient=params.get("msisdn", ""),
                    error=error,
                )
            ]
        )

    # -- REST API -----------------------------------------------------------------------------------------

    def _credentials(self, channel) -> dict[str, str]:
        key = str(channel.credentials.get("api_key") or "")
        secret = str(channel.credentials.get("api_secret") or "")
        if not key or not secret:
            raise PayloadRejected("the channel has no Vonage API key and secret")
        return {"api_key": key, "api_secret": secret}

    def _base(self, channel) -> str:
        return (channel.settings.get("api_base") or DEFAULT_API_BASE).rstrip("/")

    def check(self, channel) -> str:
        """GET /account/get-balance (the key and secret work), then that unsigned webhooks are refused."""
        with public_client(timeout=TIMEOUT) as http:
            response = send(
                http,
                "GET",
                f"{self._base(channel)}/account/get-balance",
                platform="Vonage",
                params=self._credentials(channel),
            )
        answer = _answer(response, "the balance")
        super().check(channel)
        return f"connected: balance {answer.get('value', '?')} EUR"

    def send(self, channel, message, reply_to: str = "") -> str:
        """POST /sms/json; returns the first part's message-id, which the delivery receipt names."""
        text = reply_text(message, platform="Vonage")
        to = e164(recipient_number(channel, message))
        if not to:
            raise PayloadRejected("the customer's number is not a phone number in E.164")
        sender = str(channel.settings.get("phone_number") or "")
        if not sender:
            raise PayloadRejected("the channel has no Vonage number to send from")
        data = {
            **self._credentials(channel),
            "from": sender.removeprefix("+"),
            "to": to.removeprefix("+"),
            "text": text,
            "callback": webhook_url(channel),
            "client-ref": f"cxm-{message.pk}",
        }
        if not text.isascii():
            data["type"] = "unicode"
        with public_client(timeout=TIMEOUT) as http:
            response = send(http, "POST", f"{self._base(channel)}/sms/json", platform="Vonage", data=data)
        answer = _answer(response, "the message")
        parts = [part for part in answer.get("messages") or [] if isinstance(part, dict)]
        if not parts:
            raise PayloadRejected("Vonage answered the message without a status")
        for part in parts:
            status = str(part.get("status", ""))
            if status != "0":
                raise _send_error(status, str(part.get("error-text") or ""), response)
        if not parts[0].get("message-id"):
            raise PayloadRejected("Vonage accepted the message without a message-id")
        return str(parts[0]["message-id"])


def _answer(response: httpx.Response, what: str) -> dict:
    """The JSON object of a Vonage answer, or the error it means."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    reason = ""
    if isinstance(answer, dict):
        reason = str(answer.get("error-code-label") or answer.get("title") or answer.get("detail") or "")
    if response.status_code == 429:
        return_after = delay_seconds(response.headers.get("retry-after"))
        raise RateLimited(f"Vonage rate limit reached on {what}: {reason}".rstrip(": "), return_after or 1.0)
    if response.status_code in (401, 403):
        raise PayloadRejected(
            f"Vonage refused {what} (HTTP {response.status_code}): {reason or 'bad credentials'} — "
            "the API key or secret is wrong or was rotated: fix it on the channel"
        )
    if response.status_code >= 500:
        raise TransientError(f"Vonage answered HTTP {response.status_code} on {what}")
    if response.status_code >= 400:
        raise PayloadRejected(f"Vonage refused {what} (HTTP {response.status_code}): {reason}".rstrip(": "))
    if not isinstance(answer, dict):
        # Not retried: a send Vonage took but answered strangely would go out twice.
        raise PayloadRejected(f"Vonage answered {what} with a body that is not a JSON object")
    return answer


def _send_error(status: str, text: str, response: httpx.Response) -> Exception:
    reason = f"Vonage refused the message (status {status}): {text}".rstrip(": ")
    if status in THROTTLED:
        return RateLimited(reason, retry_after=delay_seconds(response.headers.get("retry-after")) or 1.0)
    if status in TRANSIENT_STATUSES:
        return TransientError(reason)
    if status in CREDENTIAL_STATUSES:
        return PayloadRejected(f"{reason} — the API key, secret or signature is wrong: fix it on the channel")
    if status == OUT_OF_CREDIT:
        return PayloadRejected(f"{reason} — the Vonage account is out of credit")
    return PayloadRejected(reason)
