"""What a reader (a marketer following a dashboard) is shown of conversations: their messages and the
public face of their authors, never internal notes, agents' actions or a customer's contact details."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from apps.accounts.tenancy import scoped
from apps.conversations.models import Conversation, Message
from apps.customers.kinds import PRIVATE_KINDS
from apps.customers.models import Customer, Identity

PAGE_SIZE = 50


@dataclass(frozen=True)
class ReadMessage:
    pk: int
    conversation_id: int
    direction: str
    author: str  # a public name or handle; "Customer" on a private channel; the brand for its own
    text: str
    sent_at: datetime
    language: str
    sentiment: str
    intent: str
    channel: str
    deleted: bool


def public_author(identity: Identity | None, *, channel_kind: str) -> str:
    """Who wrote, as the platform shows them to anyone: a public account's name and handle. On a private
    channel (email, WhatsApp, chat...) the handle is an address or a phone number: only "Customer"."""
    if identity is None or channel_kind in PRIVATE_KINDS:
        return "Customer"
    name, handle = identity.display_name.strip(), identity.handle.strip()
    return f"{name} ({handle})" if name and handle and name != handle else (name or handle or "Customer")


def _read(message: Message) -> ReadMessage:
    outbound = message.direction == Message.Direction.OUTBOUND
    brand_name = message.conversation.brand.name
    return ReadMessage(
        pk=message.pk,
        conversation_id=message.conversation_id,
        direction=message.direction,
        author=brand_name
        if outbound
        else public_author(message.author_identity, channel_kind=message.channel.kind),
        text="" if message.deleted_at else message.text,
        sent_at=message.sent_at,
        language=message.language,
        sentiment=message.sentiment,
        intent=message.intent,
        channel=message.channel.name,
        deleted=message.deleted_at is not None,
    )


def _messages(membership) -> QuerySet[Message]:
    return (
        scoped(Message, membership)
        .exclude(direction=Message.Direction.NOTE)
        .select_related("author_identity", "channel", "conversation__brand")
        .only(
            *("conversation_id", "direction", "text", "sent_at", "language", "sentiment", "intent"),
            *("deleted_at", "channel__name", "channel__kind", "conversation__brand__name"),
            *("author_identity__display_name", "author_identity__handle"),
        )
    )


def reader_thread(*, membership, conversation: Conversation) -> list[ReadMessage]:
    """The conversation's messages in order, as a reader sees them (no notes)."""
    return [
        _read(m) for m in _messages(membership).filter(conversation=conversation).order_by("sent_at", "pk")
    ]


def reader_author_messages(
    *, membership, customer: Customer, page: int = 1
) -> tuple[list[ReadMessage], bool]:
    """The messages a customer wrote on channels the membership sees, newest first: one page, and whether
    another follows."""
    offset = (page - 1) * PAGE_SIZE
    rows = list(
        _messages(membership)
        .filter(author_identity__customer=customer, direction=Message.Direction.INBOUND)
        .order_by("-sent_at", "-pk")[offset : offset + PAGE_SIZE + 1]
    )
    return [_read(m) for m in rows[:PAGE_SIZE]], len(rows) > PAGE_SIZE


def reader_author_name(*, membership, customer: Customer) -> str:
    """The author's public name: from a public account of theirs the membership has seen a message of."""
    identity = (
        Identity.objects.filter(customer=customer, messages__in=_messages(membership).values("pk"))
        .exclude(kind__in=[str(kind) for kind in PRIVATE_KINDS])
        .order_by("-followers")
        .first()
    )
    return public_author(identity, channel_kind="") if identity else "Customer"
