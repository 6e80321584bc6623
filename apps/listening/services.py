"""Listening: which brands a message is to or about, and at which level (to, about, competitor, category)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache

from django.db.models import Max

from apps.accounts.models import Brand
from apps.connectors.kinds import PRIVATE_KINDS, ChannelKind

from .models import Level, ListeningQuery, Mention
from .query import Document, compile_matcher


def _quoted(term: str) -> str:
    term = term.strip().replace('"', "")
    if term.startswith(("@", "#")) and " " not in term:
        return term
    return f'"{term}"'


def default_queries(brand: Brand) -> list[tuple[str, str, str, str]]:
    """Starter queries from the brand's own handles, keywords, competitors and category terms."""
    queries = []
    handles = [h for h in brand.handles if h.startswith("@")]
    if handles:
        queries.append(
            ("Mentions of our handles", Level.TO_BRAND, " OR ".join(_quoted(h) for h in handles), "")
        )
    if brand.keywords:
        queries.append(("Our names", Level.ABOUT_BRAND, " OR ".join(_quoted(k) for k in brand.keywords), ""))
    for competitor in brand.competitors:
        queries.append((f"Competitor: {competitor}", Level.COMPETITOR, _quoted(competitor), competitor))
    if brand.category_terms:
        queries.append(
            ("Our category", Level.CATEGORY, " OR ".join(_quoted(t) for t in brand.category_terms), "")
        )
    return queries


def listening_queries_create_defaults(*, brand: Brand) -> list[ListeningQuery]:
    created = []
    for name, level, query, competitor in default_queries(brand):
        listening_query = ListeningQuery(
            organization_id=brand.organization_id,
            brand=brand,
            name=name,
            level=level,
            query=query,
            competitor=competitor,
        )
        listening_query.full_clean()
        listening_query.save()
        created.append(listening_query)
    return created


def brand_listen(brand: Brand) -> None:
    """Receiver of accounts.hooks.brand_created: the new brand's starter queries."""
    listening_queries_create_defaults(brand=brand)


@lru_cache(maxsize=256)
def _compiled(organization_id: int, version: str) -> list[tuple[int, int, str, str, Callable]]:
    rows = ListeningQuery.objects.filter(organization_id=organization_id, is_active=True).values_list(
        "pk", "brand_id", "level", "competitor", "query"
    )
    compiled = []
    for pk, brand_id, level, competitor, query in rows:
        try:
            compiled.append(
                (pk, brand_id, level, competitor, compile_matcher(query, channels=ChannelKind.values))
            )
        except ValueError:  # saved before a grammar change: skipped, shown as invalid in the admin
            continue
    return compiled


# How long a worker trusts its compiled queries before checking for edits (one cheap query per check).
VERSION_CHECK_SECONDS = 5.0
_versions: dict[int, tuple[float, str]] = {}


def listening_cache_clear() -> None:
    _versions.clear()


def _matchers(organization_id: int):
    now = time.monotonic()
    checked = _versions.get(organization_id)
    if checked is None or now - checked[0] > VERSION_CHECK_SECONDS:
        # The cache key changes whenever a query of the organisation is saved, so workers pick up edits.
        version = ListeningQuery.objects.filter(organization_id=organization_id).aggregate(
            v=Max("updated_at")
        )
        checked = _versions[organization_id] = (now, str(version["v"]))
    return _compiled(organization_id, checked[1])


def _mentions_of(message, matchers) -> list[Mention]:
    document = Document(text=message.searchable_text, language=message.language, channel=message.channel.kind)
    found: dict[tuple[int, str, str], int | None] = {}
    if message.channel.kind in PRIVATE_KINDS:
        found[(message.conversation.brand_id, Level.TO_BRAND, "")] = None
    for pk, brand_id, level, competitor, matcher in matchers:
        if matcher(document):
            found.setdefault((brand_id, level, competitor), pk)
    return [
        Mention(
            organization_id=message.organization_id,
            message=message,
            brand_id=brand_id,
            level=level,
            competitor=competitor,
            query_id=query_id,
        )
        for (brand_id, level, competitor), query_id in found.items()
    ]


def messages_apply_listening(messages) -> list[Mention]:
    """Tag inbound messages with every brand level they belong to; a message in a brand's private channel
    is *to* that brand whatever its words."""
    from apps.conversations.models import Message

    mentions = []
    for message in messages:
        if message.direction == Message.Direction.INBOUND:
            mentions += _mentions_of(message, _matchers(message.organization_id))
    return Mention.objects.bulk_create(mentions, ignore_conflicts=True, batch_size=1000)


def message_apply_listening(message) -> list[Mention]:
    return messages_apply_listening([message])


def listening_preview(*, membership, query: str, limit: int = 20) -> dict:
    """What a query would match among the stored messages the user may see (before saving it)."""
    from apps.accounts.tenancy import scoped
    from apps.conversations.models import Message

    from .query import parse, to_postgres

    node = parse(query, channels=ChannelKind.values)
    sql, params = to_postgres(
        node,
        text_column="conversations_message.text",
        extra_text_column="conversations_message.image_text",  # as the matcher reads searchable_text
        language_column="conversations_message.language",
        channel_column="connectors_channel.kind",
    )
    messages = (
        scoped(Message, membership)
        .filter(direction=Message.Direction.INBOUND)
        .select_related("channel", "conversation__brand")
        .extra(where=[sql], params=params)  # noqa: S610 - SQL from our own compiler, values as params
    )
    return {"count": messages.count(), "sample": list(messages.order_by("-sent_at")[:limit])}
