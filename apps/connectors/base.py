"""The one interface every connector implements (receive, fetch, send, verify), and the data it hands over.

A connector is stateless: it gets the Channel (with its decrypted credentials and settings) on every call.
It never writes to the database itself: the ingestion pipeline stores what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from apps.core.links import external_url
from apps.customers.models import StrongLink

from .setup import Setting, WebhookGuide


class PayloadRejected(Exception):
    """The payload can never be processed as it is (malformed, not for us...). Kept with this reason."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class WebhookForbidden(Exception):
    """A webhook request that did not prove it comes from the platform (missing or wrong signature)."""

    def __init__(self, reason: str, status: int = 403):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class TransientError(Exception):
    """The platform or network failed this time; the same call may succeed later (retried with back-off)."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class RateLimited(TransientError):
    """HTTP 429 or the platform's own rate-limit signal; `retry_after` in seconds when the platform says."""


@dataclass
class InboundAuthor:
    external_id: str
    handle: str = ""
    display_name: str = ""
    profile_url: str = ""
    avatar_url: str = ""
    followers: int | None = None
    verified: bool | None = None
    email: str = ""
    email_verified: bool = False
    phone: str = ""
    phone_verified: bool = False
    # The identity's kind when it differs from the channel's (e.g. "website" for a logged-in visitor).
    kind: str | None = None
    links: list[StrongLink] = field(default_factory=list)

    def __post_init__(self):
        # Every connector builds its authors here: a sender's `javascript:` profile URL is dropped on the way
        # in, whatever the platform (pages also render these through the `external_url` filter).
        self.profile_url = external_url(self.profile_url)
        self.avatar_url = external_url(self.avatar_url)


@dataclass
class InboundMessage:
    """One message as the platform described it, normalised."""

    external_id: str
    thread_key: str  # messages with the same key on one channel form one conversation
    text: str
    sent_at: datetime
    author: InboundAuthor
    html: str = ""
    subject: str = ""
    language: str = ""
    in_reply_to: str = ""
    # An echo of the brand's own message (sent from another tool) is outbound.
    outbound: bool = False
    metadata: dict = field(default_factory=dict)


@dataclass
class DeliveryUpdate:
    """A platform's receipt for a message the brand sent: sent, delivered (or read), failed."""

    external_id: str  # the platform's id returned when the message was sent
    status: str  # a Message.Delivery value: "sent" | "delivered" | "failed"
    platform_status: str  # the platform's own word (e.g. WhatsApp's "read")
    at: datetime
    recipient: str = ""
    error: str = ""


@dataclass
class MessageUpdate:
    """A change to a message stored before: an edit (the new text; the old one is kept in its history), a
    deletion or revoke (the message is marked deleted and kept for audit), a reaction added or removed."""

    EDIT = "edit"
    DELETE = "delete"
    REACT = "react"
    UNREACT = "unreact"

    target: str  # the external id of the message changed
    action: str  # EDIT | DELETE | REACT | UNREACT
    at: datetime
    event_type: str  # the platform's name for the event, e.g. "edited_message", "message_reaction"
    text: str = ""  # EDIT: the new text
    actor: str = ""  # who reacted / deleted (platform user id)
    emoji: str = ""  # REACT / UNREACT
    # EDIT of a platform that re-sends a whole object (a review and its stars, read again by a poll): the
    # fields it carries besides the text, merged into the message's metadata. Given, an edit that changes
    # neither the text nor these fields is no edit (nothing recorded, `edited_at` untouched).
    metadata: dict | None = None
    # An edit of a message never stored (sent before the channel was connected) is stored as this message.
    fallback: InboundMessage | None = None


@dataclass
class Ignored:
    """An event the payload carries that CXM deliberately does not store, and why (shown on the channel)."""

    event_type: str
    reason: str


@dataclass
class Interpretation:
    """Everything a payload carries, sorted by what ingestion does with it: messages to store, updates to
    apply to stored messages, receipts of the brand's own messages, and events ignored with a reason."""

    messages: list[InboundMessage] = field(default_factory=list)
    updates: list[MessageUpdate] = field(default_factory=list)
    receipts: list[DeliveryUpdate] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)

    def extend(self, other: Interpretation) -> Interpretation:
        self.messages += other.messages
        self.updates += other.updates
        self.receipts += other.receipts
        self.ignored += other.ignored
        return self

    @property
    def empty(self) -> bool:
        return not (self.messages or self.updates or self.receipts or self.ignored)


@dataclass
class FetchedItem:
    """One raw item a poll returned, stored as a RawPayload before it is parsed."""

    external_id: str | None
    body: bytes
    content_type: str = "application/json"


@dataclass
class FetchResult:
    items: list[FetchedItem]
    cursor: dict  # where the next poll resumes
    # A poll that stopped on purpose (a daily quota spent): why, shown on the channel, and how long the
    # next poll waits. Not a failure: the items and the cursor are kept, no back-off, no alert.
    paused: str = ""
    resume_after: float | None = None


class Connector:
    """Base class: override what the platform supports."""

    kind: str = ""
    receives_webhooks: bool = False
    # The platform may deliver webhooks by GET, its parameters in the query string (Vonage's SMS API):
    # such a GET is stored as a form-encoded payload instead of being answered as a handshake.
    receives_get_deliveries: bool = False
    polls: bool = False
    poll_interval_seconds: int = 300
    # What the channel set-up form asks for (apps/connectors/setup.py).
    setup_fields: tuple[Setting, ...] = ()
    # How the platform is pointed at the channel's webhook URL, for kinds that receive webhooks.
    webhook_guide: WebhookGuide | None = None

    def check(self, channel) -> str:
        """Try the channel's connection against the platform without storing anything or moving its
        cursor; return what was found. Raise PayloadRejected (refused: wrong credentials, unknown account)
        or TransientError (unreachable) with the reason. The default polls once, or, for a webhook kind,
        checks that an unsigned request is refused."""
        if self.polls:
            try:
                result = self.fetch(channel)
            except NotImplementedError:
                raise PayloadRejected(f"the {self.kind} connector cannot fetch yet") from None
            return f"connected: {len(result.items)} new item(s) waiting (nothing was stored)"
        if self.receives_webhooks:
            try:
                self.verify_webhook(channel, {}, b"")
            except WebhookForbidden as error:
                if error.status == 503:  # the channel lacks the secret it checks requests with
                    raise PayloadRejected(error.reason) from None
                return f"webhook ready: unsigned requests are refused ({error.reason})"
            raise PayloadRejected("the webhook accepted an unsigned request: check the channel's secret")
        raise PayloadRejected(f"there is nothing to test on a {self.kind} channel")

    def register_webhook(self, channel, url: str) -> str:
        """Tell the platform to deliver to `url` (where its API allows it); return what it answered."""
        raise PayloadRejected(f"{self.kind} webhooks are set in the platform's own console")

    def verify_webhook(self, channel, headers: dict[str, str], body: bytes) -> None:
        """Raise WebhookForbidden unless the request provably comes from the platform."""
        raise WebhookForbidden("this channel does not accept webhooks", status=404)

    def webhook_handshake(self, channel, params: dict[str, str]) -> str | None:
        """Answer a platform's GET verification (Meta's hub.challenge); None when not one."""
        return None

    def webhook_answer(self) -> tuple[str, bytes] | None:
        """(content type, body) of the answer to a webhook delivery the platform expects (Twilio's empty
        TwiML); None: CXM's own JSON receipt."""
        return None

    def payload_external_id(self, channel, body: bytes, headers: dict[str, str]) -> str | None:
        """A stable id of the payload, when the platform gives one: a redelivery is then stored once."""
        return None

    def parse(self, channel, body: bytes, headers: dict[str, str]) -> list[InboundMessage]:
        """The new messages a payload carries (what `interpret` stores)."""
        if type(self).interpret is not Connector.interpret:
            return self.interpret(channel, body, headers).messages
        raise PayloadRejected(f"the {self.kind} connector cannot parse payloads")

    def interpret(self, channel, body: bytes, headers: dict[str, str]) -> Interpretation:
        """Everything the payload carries. Connectors that know updates and ignorable events override it;
        this default takes `parse` and `delivery_updates`, and names a payload with neither as ignored."""
        result = Interpretation(
            messages=self.parse(channel, body, headers),
            receipts=self.delivery_updates(channel, body, headers),
        )
        if result.empty:
            result.ignored.append(
                Ignored(f"{self.kind} payload", "it carries no message or receipt the connector knows")
            )
        return result

    def delivery_updates(
        self, channel, body: bytes, headers: dict[str, str] | None = None
    ) -> list[DeliveryUpdate]:
        """Receipts for the brand's own messages carried by a payload (WhatsApp statuses...)."""
        if type(self).interpret is not Connector.interpret:
            return self.interpret(channel, body, headers or {}).receipts
        return []

    def fetch(self, channel) -> FetchResult:
        raise NotImplementedError

    def health_details(self, channel) -> list[str]:
        """Problems the channel page should show beyond the channel's last error (e.g. one feed of many)."""
        return []

    def send(self, channel, message, reply_to: str = "") -> str:
        """Deliver an outbound message; return the platform's id for it."""
        raise PayloadRejected(f"replies are not supported on {self.kind}")
