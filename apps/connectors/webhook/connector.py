"""The generic signed-webhook API channel: any system can post messages in CXM's JSON format.

Each request is signed like Stripe's webhooks: header `X-CXM-Timestamp: <unix seconds>` and
`X-CXM-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the channel's secret>`.
Requests older than five minutes are refused, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from apps.core.parsing import ascii_int

from ..base import Connector, InboundMessage, WebhookForbidden
from ..kinds import ChannelKind
from ..normalized import messages_from_payload
from ..setup import Setting, WebhookGuide

TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class SignedWebhookConnector(Connector):
    kind = ChannelKind.WEBHOOK
    setup_fields = (
        Setting(
            "signing_secret",
            "Signing secret",
            secret=True,
            required=True,
            help="The sending system signs each request with it (X-CXM-Signature); at least 16 characters.",
        ),
    )
    webhook_guide = WebhookGuide(
        steps=(
            "Give the sending system the webhook URL below and the signing secret.",
            "Each request carries X-CXM-Timestamp (unix seconds) and X-CXM-Signature: sha256=<HMAC-SHA256 of "
            "“<timestamp>.<body>” with the secret>; requests older than five minutes are refused.",
        ),
    )
    receives_webhooks = True

    def verify_webhook(self, channel, headers: dict[str, str], body: bytes) -> None:
        secret = channel.credentials.get("signing_secret")
        if not secret:
            raise WebhookForbidden("the channel has no signing secret configured", status=503)
        signature = headers.get("x-cxm-signature", "")
        timestamp = headers.get("x-cxm-timestamp", "")
        if not signature or not timestamp:
            raise WebhookForbidden("missing X-CXM-Signature or X-CXM-Timestamp header", status=401)
        seconds = ascii_int(timestamp)
        if seconds is None or abs(time.time() - seconds) > TOLERANCE_SECONDS:
            raise WebhookForbidden("X-CXM-Timestamp is missing, malformed or more than 5 minutes off")
        if not hmac.compare_digest(sign(secret, timestamp, body), signature):
            raise WebhookForbidden("signature does not match the body")

    def parse(self, channel, body: bytes, headers: dict[str, str]) -> list[InboundMessage]:
        return messages_from_payload(body)
