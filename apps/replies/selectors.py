"""Reads of replies: the channels a reply can take, saved replies, the nearest resolutions, deliveries."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Q, QuerySet
from pgvector.django import CosineDistance

from apps.accounts.tenancy import scoped
from apps.connectors.models import Channel
from apps.conversations.models import Conversation, Message
from apps.core.db import local_settings

from .limits import channel_limits
from .models import ResolutionExample, SavedReply

#: Outbound messages the composer shows the delivery of.
DELIVERIES_SHOWN = 8


def reply_channels(*, conversation: Conversation) -> list[Channel]:
    """The conversation's own channel first, then the brand's other channels on which CXM can write to
    the customer: those of a kind the customer has an identity of (for email, any address on the profile)."""
    from apps.customers.models import Identity
    from apps.customers.selectors import active_customer

    identities = Identity.objects.filter(customer=active_customer(conversation.customer))
    kinds, emails = set(), False
    for kind, email in identities.values_list("kind", "email"):
        kinds.add(kind)
        emails = emails or bool(email)
    others = []
    for channel in Channel.objects.filter(brand_id=conversation.brand_id).exclude(pk=conversation.channel_id):
        limits = channel_limits(channel)
        if limits is None or limits.reaches != "customer":
            continue
        if emails if limits.contact == "email" else channel.kind in kinds:
            others.append(channel)
    return [conversation.channel, *others]


def saved_replies_for(*, conversation: Conversation, agent) -> QuerySet[SavedReply]:
    """The saved replies an agent may use in a conversation: its organisation's, for its brand or every
    brand, and for every team, the agent's teams or the conversation's team."""
    teams = Q(team=None) | Q(team__in=agent.teams.all())
    if conversation.team_id:
        teams |= Q(team_id=conversation.team_id)
    return SavedReply.objects.filter(
        Q(brand=None) | Q(brand_id=conversation.brand_id),
        teams,
        organization_id=conversation.organization_id,
    ).select_related("brand", "team")


def saved_replies_nearest(
    *, saved_replies: QuerySet[SavedReply], vector: Sequence[float], limit: int
) -> list[SavedReply]:
    """The saved replies closest in meaning to `vector`, each with its cosine `distance`."""
    return list(
        saved_replies.exclude(embedding=None)
        .annotate(distance=CosineDistance("embedding", vector))
        .order_by("distance")[:limit]
    )


def resolution_examples_nearest(
    *, membership, conversation: Conversation, vector: Sequence[float], limit: int
) -> list[ResolutionExample]:
    """The resolved conversations of the organisation (those the membership may see) whose question is the
    closest in meaning to `vector`, each with its cosine `distance`; never the conversation itself, nor
    one of a customer erased since."""
    examples = (
        scoped(ResolutionExample, membership)
        .filter(organization_id=conversation.organization_id, conversation__customer__erased_at=None)
        .exclude(conversation_id=conversation.pk)
        .select_related("brand", "conversation")
        .annotate(distance=CosineDistance("embedding", vector))
        .order_by("distance")
    )
    # The HNSW index finds the nearest rows of every organisation; filtered ones are skipped and the scan
    # goes on until `limit` rows are left (pgvector >= 0.8).
    with local_settings(hnsw__iterative_scan="relaxed_order"):
        return list(examples[:limit])


def reply_deliveries(*, conversation: Conversation) -> QuerySet[Message]:
    """The conversation's latest outbound messages, newest first, for their delivery status."""
    return (
        conversation.messages.filter(direction=Message.Direction.OUTBOUND)
        .select_related("channel", "author_user")
        .order_by("-created_at", "-pk")[:DELIVERIES_SHOWN]
    )


def conversations_awaiting_examples() -> QuerySet:
    """Ids of the closed conversations without a resolution example, in id order (for the backfill)."""
    return (
        Conversation.objects.filter(status=Conversation.Status.CLOSED, resolution_example=None)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
