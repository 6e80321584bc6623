"""What a channel lets a reply be: its length, attachments, messaging window, and whom it can reach.

Each connector describes its platform in a `limits` attribute (apps/connectors/<platform>/connector.py);
a connector without one cannot send. `reply_limits()` turns that description into the warnings and blocking
errors the composer shows as the agent types, and that `services.reply_send` enforces again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Max
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

from apps.connectors.registry import connector_for

from .variables import PLACEHOLDER

#: Share of the length limit after which the composer says how much is left.
NEARLY_FULL = 0.9
#: How long before a messaging window closes the composer starts warning about it.
WINDOW_WARNING = timedelta(hours=2)
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
# twitter-text v3: code points in these ranges weigh 1, every other one 2; a link weighs 23.
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_X_URL_WEIGHT = 23
# Thread keys of Facebook and Instagram comment threads (apps/connectors/meta/connector.py): a public
# reply under a comment, with its own length limit and no messaging window.
_COMMENT_THREAD_PREFIXES = ("post:", "media:", "comment:")


@dataclass(frozen=True)
class ChannelLimits:
    """A connector's `limits`, with the defaults of a key it leaves out."""

    max_length: int | None = None
    length_unit: str = "characters"  # "characters" | "bytes" | "utf-16" | "x-weighted"
    window_hours: int | None = None  # free-form replies only this long after the customer's last message
    attachments: bool = False
    # "conversation": a reply answers a post of its own conversation; "customer": it can also reach the
    # customer from a conversation on another channel, through their identity on this one.
    reaches: str = "conversation"
    # How the customer is found on this channel: an identity of its kind, or any identity's email address.
    contact: str = "identity"
    comment_max_length: int | None = None  # in comment threads, where no messaging window applies
    # Choice buttons under a message (`metadata["buttons"]`: a Telegram inline keyboard, WhatsApp reply
    # buttons or a list), whose press comes back as an inbound message carrying the button's data.
    buttons: bool = False


@dataclass(frozen=True)
class LimitIssue:
    code: str  # "channel", "reach", "identity", "empty", "length", "variables", "attachments", "window"...
    message: str
    blocking: bool


@dataclass(frozen=True)
class ReplyLength:
    used: int
    limit: int | None
    unit: str


def channel_limits(channel) -> ChannelLimits | None:
    """The channel's limits, or None when CXM cannot send replies on its kind."""
    described = getattr(connector_for(channel.kind), "limits", None)
    return None if described is None else ChannelLimits(**described)


def _x_weighted_length(text: str) -> int:
    links = _URL.findall(text)
    rest = _URL.sub("", text)
    light = sum(1 for char in rest if any(low <= ord(char) <= high for low, high in _X_LIGHT_RANGES))
    return light + 2 * (len(rest) - light) + _X_URL_WEIGHT * len(links)


def text_length(text: str, unit: str) -> int:
    if unit == "bytes":
        return len(text.encode())
    if unit == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    if unit == "x-weighted":
        return _x_weighted_length(text)
    return len(text)


def is_comment_thread(conversation, channel) -> bool:
    return channel.pk == conversation.channel_id and conversation.external_thread_id.startswith(
        _COMMENT_THREAD_PREFIXES
    )


def reply_length(conversation, channel, text: str) -> ReplyLength:
    """How long the text is for the channel, against its limit (None: no limit, or no sending at all)."""
    limits = channel_limits(channel) or ChannelLimits()
    limit = limits.max_length
    if is_comment_thread(conversation, channel):
        limit = limits.comment_max_length or limit
    return ReplyLength(used=text_length(text, limits.length_unit), limit=limit, unit=_unit_words(limits))


def _unit_words(limits: ChannelLimits) -> str:
    return {"bytes": "bytes (UTF-8)", "utf-16": "characters", "x-weighted": "characters"}.get(
        limits.length_unit, "characters"
    )


def _can_reach(conversation, channel, limits: ChannelLimits, customer) -> LimitIssue | None:
    from apps.customers.models import Identity

    if channel.pk == conversation.channel_id:
        return None
    kind = channel.get_kind_display()
    if limits.reaches != "customer":
        return LimitIssue(
            "reach",
            f"On {kind} a reply answers a post of its own conversation, and this conversation is on "
            f"{conversation.channel.get_kind_display()}: answer it there.",
            blocking=True,
        )
    identities = Identity.objects.filter(customer=customer)
    reachable = (
        identities.exclude(email="") if limits.contact == "email" else identities.filter(kind=channel.kind)
    )
    if not reachable.exists():
        return LimitIssue(
            "identity",
            f"{customer} has no {kind} {'address' if limits.contact == 'email' else 'account'} on their "
            f"profile: they cannot be written to on {channel.name}.",
            blocking=True,
        )
    return None


def _text_issues(text: str, length: ReplyLength) -> list[LimitIssue]:
    if not text.strip():
        return [LimitIssue("empty", "Write the reply first: an empty reply cannot be sent.", blocking=True)]
    issues = []
    if length.limit is not None and length.used > length.limit:
        issues.append(
            LimitIssue(
                "length",
                f"Too long: {length.used} of at most {length.limit} {length.unit}. "
                f"Shorten it by {length.used - length.limit}.",
                blocking=True,
            )
        )
    elif length.limit is not None and length.used >= NEARLY_FULL * length.limit:
        issues.append(
            LimitIssue("length", f"{length.limit - length.used} {length.unit} left.", blocking=False)
        )
    leftovers = sorted({match.group(0) for match in PLACEHOLDER.finditer(text)})
    if leftovers:
        names = ", ".join(leftovers)
        issues.append(
            LimitIssue(
                "variables", f"The text still holds {names}: replace it before sending.", blocking=False
            )
        )
    return issues


def _window_issue(
    channel, limits: ChannelLimits, customer, moment: datetime, now: datetime
) -> LimitIssue | None:
    from apps.conversations.models import Message

    if not limits.window_hours:
        return None
    window = timedelta(hours=limits.window_hours)
    kind = channel.get_kind_display()
    rule = (
        f"{kind} takes free-form replies only within {limits.window_hours} hours "
        "of the customer's last message"
    )
    last = Message.objects.filter(
        channel=channel, direction=Message.Direction.INBOUND, conversation__customer=customer
    ).aggregate(last=Max("sent_at"))["last"]
    if last is None:
        return LimitIssue("window", f"{customer} has never written on {channel.name}: {rule}.", blocking=True)
    closes = last + window
    when = "at the scheduled time" if moment > now else "now"
    if closes <= moment:
        return LimitIssue(
            "window",
            f"Outside the {limits.window_hours}-hour window {when}: {rule}, and theirs was "
            f"{timesince(last, now)} ago (the window closed {closes:%Y-%m-%d %H:%M} UTC).",
            blocking=True,
        )
    if closes - moment <= WINDOW_WARNING:
        return LimitIssue(
            "window",
            f"The {limits.window_hours}-hour window closes in {timeuntil(closes, now)} "
            f"({closes:%H:%M} UTC): after that {kind} refuses the reply.",
            blocking=False,
        )
    return None


def reply_limits(
    conversation,
    channel,
    *,
    text: str | None = None,
    send_at: datetime | None = None,
    attachment_count: int = 0,
) -> list[LimitIssue]:
    """Why a reply in `conversation` on `channel` cannot go (blocking) or may disappoint (warnings), blocking
    ones first. `text=None` leaves out the checks of the text (a composer that has none yet); `send_at`
    checks the messaging window at the scheduled time."""
    from apps.connectors.models import Channel
    from apps.customers.selectors import active_customer

    now = timezone.now()
    if channel.brand_id != conversation.brand_id:
        message = f"{channel.name} belongs to another brand: a reply goes out as {conversation.brand}."
        return [LimitIssue("channel", message, blocking=True)]
    limits = channel_limits(channel)
    if limits is None:
        message = f"CXM cannot send replies on {channel.get_kind_display()}: answer on the platform itself."
        return [LimitIssue("channel", message, blocking=True)]
    customer = active_customer(conversation.customer)
    issues: list[LimitIssue] = []
    if channel.status != Channel.Status.ACTIVE:
        reason = f": {channel.last_error}" if channel.last_error else ""
        message = (
            f"{channel.name} is {channel.get_status_display().lower()}{reason}. The reply may not go out."
        )
        issues.append(LimitIssue("channel", message, blocking=False))
    unreachable = _can_reach(conversation, channel, limits, customer)
    if unreachable is not None:
        return [unreachable, *issues]
    if text is not None:
        issues.extend(_text_issues(text, reply_length(conversation, channel, text)))
    if attachment_count and not limits.attachments:
        message = f"Attachments cannot be sent on {channel.get_kind_display()} from CXM: send a link instead."
        issues.append(LimitIssue("attachments", message, blocking=True))
    if send_at is not None and send_at <= now:
        issues.append(
            LimitIssue("schedule", "To schedule the reply, choose a time in the future.", blocking=True)
        )
    elif not is_comment_thread(conversation, channel):
        window = _window_issue(channel, limits, customer, send_at or now, now)
        if window is not None:
            issues.append(window)
    return sorted(issues, key=lambda issue: not issue.blocking)
