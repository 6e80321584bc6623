from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet
from django.http import QueryDict

from apps.accounts.tenancy import scoped
from apps.core.models import AuditEvent
from apps.core.parsing import ascii_int

from .models import Customer, CustomerMerge, Identity, MergeSuggestion

# A phone number is searched by its digits (a query needs this many to be one): "+34 600-12" finds
# "+3460012…" however the number was typed.
PHONE_MIN_DIGITS = 4


def active_customer(customer: Customer) -> Customer:
    """Follow merges to the profile that holds the person now."""
    seen = set()
    while customer.merged_into_id and customer.pk not in seen:
        seen.add(customer.pk)
        customer = customer.merged_into
    return customer


@dataclass(frozen=True)
class CustomerFilters:
    """The customer list's filters, from its querystring; a value that makes no sense is left out."""

    channel: int | None = None  # customers with a conversation on this channel
    brand: int | None = None  # customers with a conversation of this brand
    value_min: Decimal | None = None  # lifetime value at least / at most
    value_max: Decimal | None = None

    @classmethod
    def parse(cls, params: QueryDict) -> CustomerFilters:
        return cls(
            channel=ascii_int(params.get("channel", "")),
            brand=ascii_int(params.get("brand", "")),
            value_min=_amount(params.get("value_min", "")),
            value_max=_amount(params.get("value_max", "")),
        )

    def condition(self) -> Q:
        from apps.conversations.models import Conversation

        condition = Q()
        for name in ("channel", "brand"):
            if getattr(self, name) is not None:
                found = Conversation.objects.filter(
                    customer_id=OuterRef("pk"), **{f"{name}_id": getattr(self, name)}
                )
                condition &= Q(Exists(found))
        if self.value_min is not None:
            condition &= Q(lifetime_value__gte=self.value_min)
        if self.value_max is not None:
            condition &= Q(lifetime_value__lte=self.value_max)
        return condition


def _amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip().replace(",", "."))
    except (InvalidOperation, AttributeError):
        return None
    return value if value.is_finite() and abs(value) < 10**10 else None


def customer_list(
    *, membership, query: str = "", filters: CustomerFilters | None = None
) -> QuerySet[Customer]:
    """The membership's customers, last contacted first and never contacted last, matching `query` (a
    name, handle, email or phone number) and the filters."""
    customers = scoped(Customer, membership).filter(merged_into=None, erased_at=None)
    if query:
        matches = Identity.objects.filter(customer_id=OuterRef("pk")).filter(
            Q(handle__icontains=query) | Q(email__icontains=query) | Q(display_name__icontains=query)
        )
        condition = Q(display_name__icontains=query) | Q(Exists(matches))
        digits = "".join(character for character in query if character.isdigit())
        if len(digits) >= PHONE_MIN_DIGITS and len(digits) >= len(query.replace(" ", "")) // 2:
            # Numbers are stored in E.164 (+ and digits): the query's digits are a run inside them.
            condition |= Q(
                Exists(Identity.objects.filter(customer_id=OuterRef("pk"), phone__contains=digits))
            )
        customers = customers.filter(condition)
    if filters is not None:
        customers = customers.filter(filters.condition())
    return customers.annotate(
        identity_count=Count("identities", distinct=True),
        last_contact_at=Max("conversations__last_message_at"),
    ).order_by(F("last_contact_at").desc(nulls_last=True), "-pk")


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
