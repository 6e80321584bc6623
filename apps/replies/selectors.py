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
from .models import Macro, ResolutionExample, SavedReply, Scope

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


def shelf_usable(model, *, membership, brand_id: int | None = None, team_id: int | None = None) -> QuerySet:
    """The one rule of who uses a saved reply or a macro (model: SavedReply or Macro).

    Of the membership's organisation; personal ones only to their owner; a team's only to its members (and,
    in a conversation of that team, to whoever works on it); narrowed to a brand only in that brand's
    conversations. With `brand_id` (a conversation's brand) only what serves that brand; without it what
    serves any brand the membership works on.
    """
    if membership is None:
        return model.objects.none()
    user = membership.user
    teams = Q(team=None) | Q(team__in=user.teams.all())
    if team_id:
        teams |= Q(team_id=team_id)
    if brand_id is None and membership.is_admin:
        teams = Q()  # the lists of admins, who manage every team's
    if brand_id is not None:
        brands = Q(brand=None) | Q(brand_id=brand_id)
    elif membership.limited_to_brands:
        brands = Q(brand=None) | Q(brand_id__in=membership.brand_ids)
    else:
        brands = Q()
    return (
        model.objects.filter(organization_id=membership.organization_id)
        .filter(Q(owner=None) | Q(owner=user), teams, brands)
        .select_related("brand", "team", "owner")
    )


def shelf_editable(item, *, membership) -> bool:
    """Who changes a saved reply or a macro they can use: its owner when personal, admins otherwise."""
    if membership is None or item.organization_id != membership.organization_id:
        return False
    if item.scope == Scope.PERSONAL:
        return item.owner_id == membership.user_id
    return membership.is_admin


def shelf_scopes(*, membership) -> list[tuple[str, str]]:
    """The scopes the membership may save in: agents their own, admins every one."""
    if membership.is_admin:
        return list(Scope.choices)
    return [(Scope.PERSONAL.value, Scope.PERSONAL.label)]


def shelf_search(queryset: QuerySet, *, query: str = "", folder: str = "", scope: str = "") -> QuerySet:
    """Narrowed by words in the title/name or the body (case- and accent-blind), a folder and a scope."""
    if folder:
        queryset = queryset.filter(folder=folder)
    if scope:
        queryset = queryset.filter(scope=scope)
    for word in query.split()[:8]:
        if queryset.model is SavedReply:
            queryset = queryset.filter(Q(title__unaccent__icontains=word) | Q(body__unaccent__icontains=word))
        else:
            queryset = queryset.filter(name__unaccent__icontains=word)
    return queryset


def shelf_folders(queryset: QuerySet) -> list[str]:
    return sorted(set(queryset.exclude(folder="").values_list("folder", flat=True)))


def saved_replies_for(*, conversation: Conversation, agent, membership=None) -> QuerySet[SavedReply]:
    """The saved replies an agent may use in a conversation (shelf_usable), most used first."""
    from apps.accounts.models import Membership

    membership = (
        membership
        or Membership.objects.filter(user=agent, organization_id=conversation.organization_id).first()
    )
    return shelf_usable(
        SavedReply, membership=membership, brand_id=conversation.brand_id, team_id=conversation.team_id
    )


def macros_for(*, membership, conversation: Conversation | None = None) -> QuerySet[Macro]:
    if conversation is None:
        return shelf_usable(Macro, membership=membership)
    return shelf_usable(
        Macro, membership=membership, brand_id=conversation.brand_id, team_id=conversation.team_id
    )


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
    """The resolved conversations of the conversation's own organisation and brand (another brand's answer
    speaks of its products, in its voice) whose question is the closest in meaning to `vector`, each with
    its cosine `distance`; never the conversation itself, nor one of a customer erased since."""
    examples = (
        scoped(ResolutionExample, membership)
        .filter(
            organization_id=conversation.organization_id,
            brand_id=conversation.brand_id,
            conversation__customer__erased_at=None,
        )
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
