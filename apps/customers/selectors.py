from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Q, QuerySet

from apps.accounts.tenancy import scoped
from apps.core.models import AuditEvent

from .models import Customer, CustomerMerge, Identity, MergeSuggestion


def active_customer(customer: Customer) -> Customer:
    """Follow merges to the profile that holds the person now."""
    seen = set()
    while customer.merged_into_id and customer.pk not in seen:
        seen.add(customer.pk)
        customer = customer.merged_into
    return customer


def customer_list(*, membership, query: str = "") -> QuerySet[Customer]:
    customers = scoped(Customer, membership).filter(merged_into=None, erased_at=None)
    if query:
        customers = customers.filter(
            Q(display_name__icontains=query)
            | Q(identities__handle__icontains=query)
            | Q(identities__email__iexact=query)
        ).distinct()
    return customers.annotate(
        identity_count=Count("identities", distinct=True),
        last_contact_at=Max("conversations__last_message_at"),
    ).order_by("-last_contact_at", "-pk")


def customer_identities(*, customer: Customer) -> QuerySet[Identity]:
    return customer.identities.order_by("kind", "-followers")


def customer_pending_suggestions(*, customer: Customer) -> QuerySet[MergeSuggestion]:
    return (
        MergeSuggestion.objects.filter(Q(customer=customer) | Q(candidate=customer))
        .filter(status=MergeSuggestion.Status.PENDING)
        .select_related("customer", "candidate")
    )


def customer_merges(*, customer: Customer) -> QuerySet[CustomerMerge]:
    return CustomerMerge.objects.filter(Q(target=customer) | Q(source=customer)).select_related(
        "source", "target", "actor", "undone_by"
    )


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # "message" | "event"
    message: object | None = None
    event: AuditEvent | None = None


def customer_timeline(*, customer: Customer, membership, limit: int = 200) -> list[TimelineEntry]:
    """Every interaction on every channel that the membership may see, newest first, with profile events
    (merges, edits) between. Customers are the organisation's, their messages the brands': a member
    limited to some brands sees only those brands' messages (scoped())."""
    from apps.conversations.models import Message

    messages = (
        scoped(Message, membership)
        .filter(conversation__customer=customer)
        .select_related("channel", "conversation", "author_identity", "author_user")
        .order_by("-sent_at")[:limit]
    )
    events = AuditEvent.objects.filter(
        organization_id=customer.organization_id, target_type="customers.customer", target_id=str(customer.pk)
    ).select_related("actor")[:limit]
    entries = [TimelineEntry(at=m.sent_at, kind="message", message=m) for m in messages]
    entries += [TimelineEntry(at=e.created_at, kind="event", event=e) for e in events]
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit]


def customer_export(*, customer: Customer, membership) -> dict:
    """Everything held about a person (right of access / portability) that the membership may see, as
    plain JSON-ready data: the conversations and messages of its brands (all of them for most members)."""
    from apps.conversations.models import Conversation, Message

    profiles = [customer, *Customer.objects.filter(merged_into=customer)]
    identities = Identity.objects.filter(customer__in=profiles)
    conversations = (
        scoped(Conversation, membership).filter(customer__in=profiles).select_related("brand", "channel")
    )
    messages = scoped(Message, membership).filter(conversation__in=conversations).select_related("channel")
    return {
        "customer": {
            "id": customer.pk,
            "display_name": customer.display_name,
            "attributes": customer.attributes,
            "lifetime_value": str(customer.lifetime_value) if customer.lifetime_value is not None else None,
            "created_at": customer.created_at.isoformat(),
            "merged_profiles": [profile.pk for profile in profiles[1:]],
        },
        "identities": [
            {
                "kind": identity.kind,
                "external_id": identity.external_id,
                "handle": identity.handle,
                "display_name": identity.display_name,
                "profile_url": identity.profile_url,
                "email": identity.email,
                "phone": identity.phone,
                "followers": identity.followers,
                "verified": identity.verified,
                "first_seen_at": identity.first_seen_at.isoformat(),
            }
            for identity in identities
        ],
        "conversations": [
            {
                "id": conversation.pk,
                "brand": conversation.brand.name,
                "channel": conversation.channel.kind,
                "subject": conversation.subject,
                "status": conversation.status,
                "created_at": conversation.created_at.isoformat(),
            }
            for conversation in conversations
        ],
        "messages": [
            {
                "conversation": message.conversation_id,
                "direction": message.direction,
                "channel": message.channel.kind,
                "text": message.text,
                "language": message.language,
                "sent_at": message.sent_at.isoformat(),
            }
            for message in messages.exclude(direction=Message.Direction.NOTE)
        ],
    }
