"""What the SMS connectors (apps/connectors/twilio, apps/connectors/vonage) share: phone numbers in E.164,
the sender's identity, and where a reply goes.

An SMS customer is their phone number: the identity's external id is the number in E.164 ("+14155550100"),
and its phone is the same number marked verified. The number is the one the carrier network delivered the
message from, as reported by the provider in a signed request, which is the same evidence WhatsApp's wa_id
gives: customers' identity resolution (apps/customers/services.py) then joins the SMS profile with the
customer's WhatsApp (or any other verified use of the number) as "same verified phone".
"""

from __future__ import annotations

import re

from .base import InboundAuthor, PayloadRejected
from .sending import reply_recipient

# E.164: a "+", then a country code and number of at most 15 digits in all.
E164 = re.compile(r"^\+[1-9]\d{5,14}$")
MAX_SMS_CHARS = 1600  # Twilio's Body limit; Vonage splits longer texts into more parts than carriers keep


def e164(number: str) -> str:
    """A number as the providers give it ("+14155550100", "14155550100", "1 415 555 0100") in E.164;
    "" when it is not a phone number (an alphanumeric sender id such as "ACME", a short code stays digits)."""
    digits = re.sub(r"[\s().-]", "", str(number or "")).removeprefix("+")
    return f"+{digits}" if digits.isdigit() and 3 <= len(digits) <= 15 else ""


def sms_author(number: str) -> InboundAuthor:
    """The customer who wrote from `number` (already E.164)."""
    return InboundAuthor(external_id=number, handle=number, phone=number, phone_verified=True)


def reply_text(message, *, platform: str) -> str:
    text = message.text or ""
    if not text.strip():
        raise PayloadRejected(f"an empty SMS cannot be sent through {platform}")
    if len(text) > MAX_SMS_CHARS:
        raise PayloadRejected(f"SMS through {platform} are limited to {MAX_SMS_CHARS} characters")
    return text


def recipient_number(channel, message) -> str:
    """The number a reply goes to (SMS identities are E.164 numbers)."""
    return reply_recipient(
        channel, message, missing="the customer has no phone number on this SMS channel to write to"
    )


def webhook_url(channel) -> str:
    """The public URL the provider posts this channel's webhooks to: the channel's own setting when an
    admin gave one (a proxy rewrites the address), else CXM_BASE_URL with the channel's webhook path."""
    from django.conf import settings
    from django.urls import reverse

    given = str((channel.settings or {}).get("webhook_url") or "").strip()
    if given:
        return given
    return settings.CXM_BASE_URL + reverse("ingestion:webhook", args=[channel.webhook_token])
