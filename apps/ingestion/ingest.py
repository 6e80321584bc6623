"""Set-based ingestion: many normalised messages stored with a handful of statements, not a dozen each.

Used for every payload, whether it carries one message or a batch task brings hundreds: one code path.
The caller holds a transaction; a unique-key race with another worker raises IntegrityError, which makes
the batch task fall back to processing its payloads one by one.

Order of work, each step a few statements for the whole set:
1. lock the threads (advisory locks, taken in sorted order so that workers cannot deadlock);
2. drop messages already stored (redeliveries);
3. resolve authors: strong evidence (verified email/phone, explicit links) goes through the full
   `identity_resolve` one by one, as it may merge profiles; every other author is looked up in one query,
   and the missing ones are created with their profiles in bulk;
4. find conversations by thread key (or by the message replied to), or prepare new ones;
5. fill in what the pipeline adds before the insert (the language), so that each row is written once;
6. insert the new conversations with their counters and SLA deadline set, then the messages, then update
   the counters and SLA deadline of the conversations that were there before, in one statement;
7. run the pipeline steps over the new messages.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from apps.connectors.base import InboundMessage
from apps.connectors.models import Channel
from apps.conversations.models import Conversation, Message, ThreadAlias
from apps.conversations.services import html_sanitise
from apps.core import bulk_sql
from apps.customers.models import Customer, Identity
from apps.customers.services import identity_resolve, normalise_email, normalise_phone, suggest_weak_matches

from . import pipeline
from .hooks import conversations_opened


@dataclass
class Item:
    channel: Channel
    inbound: InboundMessage
    payload: object | None  # the RawPayload the message came from


def _thread_lock_key(item: Item) -> int:
    digest = hashlib.blake2b(f"{item.channel.pk}:{item.inbound.thread_key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _lock_threads(items: list[Item]) -> None:
    keys = sorted({_thread_lock_key(item) for item in items})
    with bulk_sql.binary_cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k)) "
            "FROM (SELECT unnest(%b::bigint[]) AS k ORDER BY 1) AS keys",
            [keys],
        )


def stored_external_ids(channel_id: int, external_ids: set[str]) -> set[str]:
    """Those of `external_ids` that a message of the channel already has."""
    with bulk_sql.binary_cursor() as cursor:
        cursor.execute(
            "SELECT external_id FROM conversations_message WHERE channel_id = %s AND external_id = ANY(%b)",
            [channel_id, list(external_ids)],
        )
        return {external_id for (external_id,) in cursor}


def _drop_stored(items: list[Item]) -> list[Item]:
    wanted: dict[int, set[str]] = defaultdict(set)
    for item in items:
        wanted[item.channel.pk].add(item.inbound.external_id)
    stored = {
        (channel_id, external_id)
        for channel_id, external_ids in wanted.items()
        for external_id in stored_external_ids(channel_id, external_ids)
    }
    fresh, seen = [], set()
    for item in items:
        key = (item.channel.pk, item.inbound.external_id)
        if key not in stored and key not in seen:
            seen.add(key)
            fresh.append(item)
    return fresh


def _author_key(item: Item) -> tuple[int, str, str]:
    return (
        item.channel.organization_id,
        item.inbound.author.kind or item.channel.kind,
        item.inbound.author.external_id,
    )


def _needs_full_resolution(item: Item) -> bool:
    author = item.inbound.author
    return bool(
        author.links or (author.email and author.email_verified) or (author.phone and author.phone_verified)
    )


def _facts(item: Item) -> dict:
    author = item.inbound.author
    return {
        "handle": author.handle,
        "display_name": author.display_name,
        "profile_url": author.profile_url,
        "avatar_url": author.avatar_url,
        "email": normalise_email(author.email),
        "phone": normalise_phone(author.phone),
        "followers": author.followers,
        "verified": author.verified,
    }


def _resolve_authors(items: list[Item]) -> dict[tuple[int, str, str], Identity]:
    identities: dict[tuple[int, str, str], Identity] = {}
    simple: dict[tuple[int, str, str], Item] = {}
    for item in items:
        key = _author_key(item)
        if key in identities or key in simple:
            continue
        if _needs_full_resolution(item):
            author = item.inbound.author
            identities[key] = identity_resolve(
                organization=item.channel.organization,
                kind=key[1],
                external_id=key[2],
                handle=author.handle,
                display_name=author.display_name,
                profile_url=author.profile_url,
                avatar_url=author.avatar_url,
                followers=author.followers,
                verified=author.verified,
                email=author.email,
                email_verified=author.email_verified,
                phone=author.phone,
                phone_verified=author.phone_verified,
                links=author.links,
            )
        else:
            simple[key] = item

    by_group: dict[tuple[int, str], list[str]] = defaultdict(list)
    for organization_id, kind, external_id in simple:
        by_group[(organization_id, kind)].append(external_id)
    changed: list[Identity] = []
    for (organization_id, kind), external_ids in by_group.items():
        for identity in bulk_sql.select(
            Identity,
            "organization_id = %s AND kind = %s AND external_id = ANY(%b)",
            [organization_id, kind, external_ids],
        ):
            key = (organization_id, kind, identity.external_id)
            identities[key] = identity
            dirty = False
            for field, value in _facts(simple.pop(key)).items():
                if value not in ("", None) and getattr(identity, field) != value:
                    setattr(identity, field, value)
                    dirty = True
            if dirty:
                changed.append(identity)
    if changed:
        Identity.objects.bulk_update(
            changed,
            [
                "handle",
                "display_name",
                "profile_url",
                "avatar_url",
                "email",
                "phone",
                "followers",
                "verified",
            ],
        )
    if simple:  # authors never seen: a profile each, made in bulk
        keys = list(simple)
        customers = [
            bulk_sql.unsaved(
                Customer,
                organization_id=key[0],
                display_name=simple[key].inbound.author.display_name or simple[key].inbound.author.handle,
            )
            for key in keys
        ]
        bulk_sql.insert(customers)
        new_identities = [
            bulk_sql.unsaved(
                Identity,
                organization_id=key[0],
                kind=key[1],
                external_id=key[2],
                customer=customer,
                **{field: value for field, value in _facts(simple[key]).items() if value not in ("", None)},
            )
            for key, customer in zip(keys, customers, strict=True)
        ]
        bulk_sql.insert(new_identities)
        for key, identity in zip(keys, new_identities, strict=True):
            identities[key] = identity
        by_organization: dict[int, list[Identity]] = defaultdict(list)
        for identity in new_identities:
            by_organization[identity.organization_id].append(identity)
        for group in by_organization.values():
            suggest_weak_matches(group)  # weak evidence only ever suggests a merge
    return identities


def _conversations_for(
    items: list[Item], identities
) -> tuple[dict[tuple[int, str], Conversation], list[Conversation]]:
    """Each item's conversation by (channel, thread key), and those of them to open (not inserted yet:
    they are, with their counters, once the messages are known)."""
    threads: dict[tuple[int, str], Conversation] = {}
    wanted: dict[int, set[str]] = defaultdict(set)
    for item in items:
        wanted[item.channel.pk].add(item.inbound.thread_key[:500])
    for channel_id, keys in wanted.items():
        latest = (
            Conversation.objects.filter(channel_id=channel_id, external_thread_id__in=keys)
            .order_by("external_thread_id", "-created_at")
            .distinct("external_thread_id")
        )
        for conversation in latest:
            threads[(channel_id, conversation.external_thread_id)] = conversation
        # Threads whose conversation was merged into another continue there.
        missing = keys - {key for channel, key in threads if channel == channel_id}
        if missing:
            for alias in ThreadAlias.objects.filter(
                channel_id=channel_id, external_thread_id__in=missing
            ).select_related("conversation"):
                threads[(channel_id, alias.external_thread_id)] = alias.conversation
    # A message that names the one it replies to joins that message's conversation.
    replies = [
        item
        for item in items
        if (item.channel.pk, item.inbound.thread_key[:500]) not in threads and item.inbound.in_reply_to
    ]
    if replies:
        parents = Message.objects.filter(
            channel_id__in={item.channel.pk for item in replies},
            external_id__in={item.inbound.in_reply_to for item in replies},
        ).select_related("conversation")
        by_parent = {(parent.channel_id, parent.external_id): parent.conversation for parent in parents}
        for item in replies:
            conversation = by_parent.get((item.channel.pk, item.inbound.in_reply_to))
            if conversation is not None:
                threads[(item.channel.pk, item.inbound.thread_key[:500])] = conversation
    to_open: dict[tuple[int, str], Conversation] = {}
    for item in items:
        key = (item.channel.pk, item.inbound.thread_key[:500])
        if key not in threads and key not in to_open:
            to_open[key] = bulk_sql.unsaved(
                Conversation,
                organization_id=item.channel.organization_id,
                brand_id=item.channel.brand_id,
                channel=item.channel,
                customer_id=identities[_author_key(item)].customer_id,
                subject=(item.inbound.subject or item.inbound.text[:120])[:500],
                external_thread_id=key[1],
            )
    threads.update(to_open)
    return threads, list(to_open.values())


@dataclass
class _Counters:
    """What a set of new messages changes in their conversation."""

    messages: int = 0
    last_at: datetime | None = None
    first_out: datetime | None = None
    inbound: bool = False
    sla_due: datetime | None = None  # the earliest first-response deadline of the inbound messages (routing)


def _conversation_counters(messages: list[Message]) -> list[tuple[Conversation, _Counters]]:
    # By pk, else by object (new ones have no pk yet). Two messages may reach one stored conversation
    # through two objects (one found by thread key, one by the message it replies to): keyed by object,
    # that conversation got two rows in the UPDATE, and PostgreSQL applies only one of them.
    by_conversation: dict[object, tuple[Conversation, _Counters]] = {}
    for message in messages:
        conversation = message.conversation
        key = ("pk", conversation.pk) if conversation.pk is not None else ("new", id(conversation))
        _, counters = by_conversation.setdefault(key, (conversation, _Counters()))
        counters.messages += 1
        if message.direction != Message.Direction.NOTE and (
            counters.last_at is None or message.sent_at > counters.last_at
        ):
            counters.last_at = message.sent_at
        if message.direction == Message.Direction.OUTBOUND and (
            counters.first_out is None or message.sent_at < counters.first_out
        ):
            counters.first_out = message.sent_at
        if message.direction == Message.Direction.INBOUND:
            counters.inbound = True
            due = pipeline.sla_deadline(message)
            counters.sla_due = due if counters.sla_due is None else min(due, counters.sla_due)
    return list(by_conversation.values())


def _open_conversations(opened: list[Conversation], counters: list[tuple[Conversation, _Counters]]) -> None:
    """Insert the new conversations with their counters already set: an UPDATE of a row inserted by the
    same transaction rewrites every index entry of the conversation and checks its foreign keys again."""
    for conversation, counter in counters:
        if conversation.pk is None:
            conversation.message_count = counter.messages
            conversation.last_message_at = counter.last_at
            conversation.first_response_at = counter.first_out
            conversation.sla_due_at = counter.sla_due
    if opened:
        bulk_sql.insert(opened)
        conversations_opened.send(opened)


def _update_conversations(counters: list[tuple[Conversation, _Counters]]) -> None:
    """The counters of conversations that were there before these messages, in one statement."""
    if not counters:
        return
    with bulk_sql.binary_cursor() as cursor:
        cursor.execute(
            """
            UPDATE conversations_conversation AS c SET
                message_count = c.message_count + v.n,
                last_message_at = GREATEST(c.last_message_at, v.last_at),
                first_response_at = COALESCE(c.first_response_at, v.first_out),
                resolved_at = CASE WHEN v.inbound AND c.status = 'closed' THEN NULL ELSE c.resolved_at END,
                -- The customer wrote again: a closed or snoozed conversation is back in the inbox.
                status = CASE WHEN v.inbound AND c.status IN ('closed', 'snoozed') THEN 'open'
                              ELSE c.status END,
                snoozed_until = CASE WHEN v.inbound THEN NULL ELSE c.snoozed_until END,
                -- Routing: the first-response clock starts with the first message waiting for the brand.
                sla_due_at = COALESCE(c.sla_due_at, v.sla_due),
                updated_at = now()
            FROM unnest(%b::bigint[], %b::int[], %b::timestamptz[], %b::timestamptz[], %b::boolean[],
                        %b::timestamptz[])
                AS v(id, n, last_at, first_out, inbound, sla_due)
            WHERE c.id = v.id
            """,
            [
                [conversation.pk for conversation, _ in counters],
                [counter.messages for _, counter in counters],
                [counter.last_at for _, counter in counters],
                [counter.first_out for _, counter in counters],
                [counter.inbound for _, counter in counters],
                [counter.sla_due for _, counter in counters],
            ],
        )


def messages_ingest(items: list[Item]) -> list[Message]:
    """Store the messages not stored yet, threaded and attributed; returns the new ones."""
    if not items:
        return []
    _lock_threads(items)
    items = _drop_stored(items)
    if not items:
        return []
    identities = _resolve_authors(items)
    threads, opened = _conversations_for(items, identities)
    messages = []
    for item in items:
        inbound = item.inbound
        identity = identities[_author_key(item)]
        messages.append(
            bulk_sql.unsaved(
                Message,
                organization_id=item.channel.organization_id,
                conversation=threads[(item.channel.pk, inbound.thread_key[:500])],
                channel=item.channel,
                direction=Message.Direction.OUTBOUND if inbound.outbound else Message.Direction.INBOUND,
                external_id=inbound.external_id,
                text=inbound.text,
                html=html_sanitise(inbound.html),
                language=inbound.language,
                author_identity=None if inbound.outbound else identity,
                raw_payload=item.payload,
                sent_at=inbound.sent_at,
                delivery_status=Message.Delivery.DELIVERED if inbound.outbound else Message.Delivery.RECEIVED,
                metadata=inbound.metadata,
            )
        )
    pipeline.before_insert(messages)
    counters = _conversation_counters(messages)
    existing = [(conversation, counter) for conversation, counter in counters if conversation.pk is not None]
    _open_conversations(opened, counters)
    bulk_sql.insert(messages)
    _update_conversations(existing)
    pipeline.in_transaction(messages)
    return messages
