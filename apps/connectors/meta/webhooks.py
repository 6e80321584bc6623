"""What every Meta webhook shares: the subscription handshake, the signature, the envelope.

- Handshake: when the webhook is configured, Meta sends `GET ?hub.mode=subscribe&hub.verify_token=…
  &hub.challenge=…`; the endpoint answers the challenge when the verify token is the channel's.
- Signature: every POST carries `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed
  with the app secret>`.
- Envelope: `{"object": "page" | "instagram" | "whatsapp_business_account", "entry": [ … ]}`; one
  delivery may batch several entries, each with several events, all of them returned.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from apps.core.parsing import ascii_int

from ..base import Connector, PayloadRejected, WebhookForbidden
from ..normalized import decode_json, parse_time
from ..setup import Setting, WebhookGuide, api_base
from .graph import DEFAULT_GRAPH_BASE, DEFAULT_GRAPH_VERSION, graph_get

SIGNATURE_HEADER = "x-hub-signature-256"


def sign(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def entries(body: bytes, *, expected_object: str, kind: str) -> list[dict]:
    data = decode_json(body)
    # Meta's examples sometimes show the envelope inside a list: accept both.
    envelopes = data if isinstance(data, list) else [data]
    found: list[dict] = []
    for envelope in envelopes:
        if not isinstance(envelope, dict) or not isinstance(envelope.get("entry"), list):
            raise PayloadRejected("not a Meta webhook: 'object' and an 'entry' list are required")
        # An envelope without `object` (as some SDKs' test suites and relays build them) is taken for the
        # channel's own: the webhook URL already names the channel.
        if envelope.get("object", expected_object) != expected_object:
            raise PayloadRejected(
                f"a {kind} channel receives '{expected_object}' webhooks, not '{envelope.get('object')}': "
                "check which object the Meta app's webhook subscription points at this URL"
            )
        found.extend(entry for entry in envelope["entry"] if isinstance(entry, dict))
    return found


def meta_time(value) -> datetime | None:
    """Meta's times: Unix milliseconds (messaging), Unix seconds (changes, WhatsApp, as text too) or
    ISO 8601 with a +0000 offset (some feed values)."""
    if isinstance(value, str) and ascii_int(value) is not None:
        value = ascii_int(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value:
        try:
            return parse_time(value)
        except PayloadRejected:
            return None
    return None


def event_time(*candidates) -> datetime:
    """The first of the candidates that is a time Meta wrote, else now."""
    for candidate in candidates:
        moment = meta_time(candidate)
        if moment is not None:
            return moment
    return datetime.now(UTC)


def changes(entry: dict) -> list[dict]:
    """An entry's field changes: `entry.changes[]`, or the entry itself when it carries `field` / `value`
    directly (Instagram's Business Login notifications)."""
    found = [change for change in entry.get("changes") or [] if isinstance(change, dict)]
    if "field" in entry and "value" in entry:
        found.append({"field": entry["field"], "value": entry["value"]})
    return [change for change in found if isinstance(change.get("value"), dict)]


META_SETUP_FIELDS = (
    Setting(
        "access_token",
        "Access token",
        secret=True,
        required=True,
        help="A long-lived Page access token (Messenger, Instagram) or a system user's token (WhatsApp).",
    ),
    Setting(
        "app_secret",
        "App secret",
        secret=True,
        required=True,
        help="The Meta app's secret (App settings → Basic): every webhook delivery is signed with it.",
    ),
    Setting(
        "verify_token",
        "Verify token",
        credential=True,
        generated=True,
        help="What Meta sends once when the webhook is set. Leave empty: CXM makes one (shown below).",
    ),
    Setting(
        "app_id",
        "App id",
        credential=True,
        help="Optional: replies sent by this app from other tools are then recognised as the brand's.",
    ),
    api_base("graph_base", DEFAULT_GRAPH_BASE, "Graph API"),
    Setting("graph_version", "Graph API version", help=f"Default {DEFAULT_GRAPH_VERSION}.", advanced=True),
)


class MetaWebhookConnector(Connector):
    """Handshake and signature for the three Meta connectors (defined in connector.py).

    Meta gives a delivery no id, so `payload_external_id` stays None: a redelivered payload is stored
    again, and its messages are still ingested once (each is unique per channel on its mid, comment id
    or wamid).
    """

    receives_webhooks = True
    webhook_object = ""
    setup_fields = META_SETUP_FIELDS
    webhook_guide = WebhookGuide(
        steps=(
            "In the Meta app's dashboard (developers.facebook.com), open the product's Webhooks settings "
            "(Messenger, Instagram or WhatsApp → Configuration).",
            "Paste the webhook URL below as the Callback URL, and the verify token below as the Verify "
            "token; press “Verify and save”: Meta calls the URL once, and CXM answers its challenge.",
            "Subscribe the fields the channel receives: messages (and messaging_postbacks, message_echoes, "
            "feed or comments for comments).",
            "Press “Test the connection”: CXM reads the account with the channel's access token.",
        ),
        shown_credentials=("verify_token",),
    )

    def check(self, channel) -> str:
        """The access token reads the account it stands for (GET /me), and requests must be signed."""
        account = graph_get(channel, "me", what="Graph API /me", fields="id,name")
        super().check(channel)  # refused without the app secret that signatures are checked with
        return f"connected as {account.get('name') or account.get('id')}; signed webhooks only"

    def webhook_handshake(self, channel, params: dict[str, str]) -> str | None:
        verify_token = channel.credentials.get("verify_token")
        given = params.get("hub.verify_token", "")
        if (
            params.get("hub.mode") == "subscribe"
            and verify_token
            and given
            and hmac.compare_digest(given.encode(), str(verify_token).encode())
        ):
            return params.get("hub.challenge", "")
        return None

    def verify_webhook(self, channel, headers: dict[str, str], body: bytes) -> None:
        app_secret = channel.credentials.get("app_secret")
        if not app_secret:
            raise WebhookForbidden("the channel has no Meta app secret configured", status=503)
        signature = headers.get(SIGNATURE_HEADER, "")
        if not signature:
            raise WebhookForbidden("missing X-Hub-Signature-256 header", status=401)
        if not hmac.compare_digest(signature.encode(), sign(str(app_secret), body).encode()):
            raise WebhookForbidden("X-Hub-Signature-256 does not match the body")

    def entries(self, body: bytes) -> list[dict]:
        return entries(body, expected_object=self.webhook_object, kind=str(self.kind))
