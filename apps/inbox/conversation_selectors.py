"""Reads for the conversation page: who may work on a conversation, its thread across the customer's
channels, and the customer's 360° profile panel. Every read is scoped through apps.accounts.tenancy."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F

from apps.accounts.models import Membership
from apps.accounts.tenancy import scoped
from apps.conversations.models import Conversation, Message
from apps.conversations.selectors import conversation_members  # noqa: F401 (its home is conversations)
from apps.customers.models import Customer, CustomerMerge, Identity, MergeSuggestion
from apps.customers.selectors import customer_identities, customer_merges, customer_pending_suggestions

#: The page's thread: this conversation only, or every conversation of the customer with this brand.
THREAD_MODES = {"conversation": "This conversation", "customer": "Every channel with this brand"}
# The interleaved thread shows the latest messages of all those conversations, as many as this.
CUSTOMER_THREAD_LIMIT = 500
PROFILE_CONVERSATIONS = 50
PROFILE_NOTES = 20
PROFILE_MERGES = 20
ACTIVITY_LIMIT = 100


def customer_brand_thread(*, conversation: Conversation, membership: Membership) -> list[Message]:
    """The customer's whole thread with the conversation's brand, across channels: the latest messages of
    all their conversations with it, interleaved, oldest first."""
    latest = (
        scoped(Message, membership)
        .filter(
            conversation__customer_id=conversation.customer_id, conversation__brand_id=conversation.brand_id
        )
        .select_related("author_identity", "author_user", "channel", "conversation")
        .order_by("-sent_at", "-pk")[:CUSTOMER_THREAD_LIMIT]
    )
    return list(reversed(latest))


@dataclass(frozen=True)
class CustomerProfile:
    """The profile panel beside a conversation."""

    customer: Customer
    identities: list[Identity]
    # The customer's other conversations on every channel, that the member may see, latest first.
    conversations: list[Conversation]
    more_conversations: bool
    # Internal notes of those conversations, latest first.
    notes: list[Message]
    suggestions: list[MergeSuggestion]
    merges: list[CustomerMerge]


def customer_profile(*, conversation: Conversation, membership: Membership) -> CustomerProfile:
    customer = conversation.customer
    others = (
        scoped(Conversation, membership)
        .filter(customer=customer)
        .exclude(pk=conversation.pk)
        .select_related("channel", "brand")
        .order_by(F("last_message_at").desc(nulls_last=True), "-pk")
    )
    conversations = list(others[: PROFILE_CONVERSATIONS + 1])
    notes = (
        scoped(Message, membership)
        .filter(conversation__customer=customer, direction=Message.Direction.NOTE)
        .exclude(conversation=conversation)
        .select_related("author_user", "conversation")
        .order_by("-sent_at", "-pk")[:PROFILE_NOTES]
    )
    return CustomerProfile(
        customer=customer,
        identities=list(customer_identities(customer=customer)),
        conversations=conversations[:PROFILE_CONVERSATIONS],
        more_conversations=len(conversations) > PROFILE_CONVERSATIONS,
        notes=list(notes),
        suggestions=list(customer_pending_suggestions(customer=customer)),
        merges=list(customer_merges(customer=customer)[:PROFILE_MERGES]),
    )


def conversation_activity(*, conversation: Conversation) -> list:
    """The conversation's activity, newest first: its audit log (assignments and why, routing, SLA warnings
    and breaches, status changes, rules' actions), each event's `data["explanation"]` in words where the
    service gave one."""
    from apps.core.models import AuditEvent

    return list(
        AuditEvent.objects.filter(
            organization_id=conversation.organization_id,
            target_type=Conversation._meta.label_lower,
            target_id=str(conversation.pk),
        )
        .select_related("actor")
        .order_by("-created_at", "-pk")[:ACTIVITY_LIMIT]
    )
