"""The lossless ingestion pipeline.

1. `payload_receive` stores the raw payload durably first (idempotent on channel + external id), and only
   then enqueues its processing, once the row is committed.
2. `payload_process` (run by a Celery worker) parses it with the channel's connector and ingests each
   message: thread → identity and profile → listening → classification → routing → live event → search.
   Each message is idempotent on (channel, external id); the whole payload is one transaction, so a worker
   killed mid-way leaves nothing half-done and the redelivered task does it again, exactly once.
3. A payload that can never be processed is *rejected* with a human-readable reason, and can be replayed
   after a fix (`payload_replay`).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.connectors.base import Ignored, Interpretation, MessageUpdate, PayloadRejected
from apps.connectors.models import Channel
from apps.connectors.normalized import decode_json, messages_from_payload
from apps.connectors.registry import connector_for
from apps.conversations.models import Message
from apps.conversations.services import messages_delivery_update
from apps.core import bulk_sql

from . import pipeline
from .ingest import Item, messages_ingest
from .models import RawPayload

logger = logging.getLogger(__name__)

# What is kept of a payload refused at the door (too big, forged): enough to inspect, not to fill the disk.
KEPT_BYTES_OF_REFUSED = 64 * 1024
# Payloads stored together (imports, polls, webhooks coming fast) are processed in tasks of this many: one
# broker round trip, one worker wake-up and one set of statements for many messages. A worker spends
# ~0.65 ms of CPU a message in sets of 50, ~0.4 ms in sets of 250 (bench/ingestion.py's messages).
ENQUEUE_BATCH = 250


@dataclass
class Received:
    payload: RawPayload
    created: bool


def payloads_enqueue(payload_ids: list[int], *, per_task: int = ENQUEUE_BATCH, bulk: bool = False) -> bool:
    """Send the processing tasks of payloads already committed: one that also takes the payloads waiting
    beside it for a lone payload, tasks of `per_task` for many; `bulk` for import chunks, which go to the
    bulk queue. False when the broker could not take them (the relay, relay.py, sends them once it can)."""
    from .tasks import process_import_chunk_task, process_payload_batch_task, process_payload_task

    try:
        if len(payload_ids) == 1 and not bulk:
            process_payload_task.delay(payload_ids[0])
        elif payload_ids:
            task = process_import_chunk_task if bulk else process_payload_batch_task
            for start in range(0, len(payload_ids), per_task):
                task.delay(payload_ids[start : start + per_task])
    except Exception:  # broker down: the payload is stored; the relay (relay.py) sends it again
        logger.warning(
            "could not enqueue payloads; they will be requeued",
            exc_info=True,
            extra={"payloads": payload_ids[:20]},
        )
        return False
    return True


# Import chunks processed by one task, in one transaction: each chunk already carries ROWS_PER_PAYLOAD
# messages (bulk_import.py), and a task of several spreads the statements, the hooks' own queries and the
# task's overhead over about a thousand messages (bench/ingestion.py), while a chunk stays small enough to
# be split row by row should one row break it.
IMPORT_CHUNKS_PER_TASK = 4


def _enqueue_options(source: str) -> dict:
    """How a source's payloads go to tasks: import chunks IMPORT_CHUNKS_PER_TASK a task on the bulk queue,
    other payloads ENQUEUE_BATCH a task."""
    if source == RawPayload.Source.IMPORT:
        return {"per_task": IMPORT_CHUNKS_PER_TASK, "bulk": True}
    return {"per_task": ENQUEUE_BATCH}


def _enqueue(payload_ids: list[int], *, source: str) -> None:
    if payload_ids:
        transaction.on_commit(lambda: payloads_enqueue(payload_ids, **_enqueue_options(source)))


@transaction.atomic
def payload_receive(
    *,
    channel: Channel,
    source: str,
    body: bytes,
    headers: dict | None = None,
    content_type: str = "",
    external_id: str | None = None,
) -> Received:
    """Store a payload (once per channel + external id) and enqueue its processing after commit."""
    values = {
        "organization_id": channel.organization_id,
        "channel": channel,
        "source": source,
        "body": body,
        "headers": headers or {},
        "content_type": content_type[:200],
        "external_id": external_id[:500] if external_id else None,
    }
    if external_id:
        existing = RawPayload.objects.filter(channel=channel, external_id=values["external_id"]).first()
        if existing:
            return Received(existing, False)
        try:
            with transaction.atomic():
                payload = RawPayload.objects.create(**values)
        except IntegrityError:  # the same delivery, concurrently: the other one stored it
            return Received(RawPayload.objects.get(channel=channel, external_id=values["external_id"]), False)
    else:
        payload = RawPayload.objects.create(**values)
    _enqueue([payload.pk], source=source)
    return Received(payload, True)


# One statement in autocommit: the payload is stored only while its channel row still has the token,
# kind and (encrypted) credentials the signature was checked with and is not paused, so a channel read
# a few seconds earlier can never let through what the channel as it is now would refuse.
_RECEIVE_VERIFIED_SQL = f"""
    INSERT INTO {RawPayload._meta.db_table}
        (organization_id, channel_id, source, external_id, body, content_type, headers, status,
         rejection_reason, attempts, received_at)
    SELECT channel.organization_id, channel.id, %(source)s, %(external_id)s, %(body)b, %(content_type)s,
           %(headers)s, '{RawPayload.Status.RECEIVED}', '', 0, now()
    FROM {Channel._meta.db_table} AS channel
    WHERE channel.id = %(channel)s AND channel.webhook_token = %(token)s AND channel.kind = %(kind)s
        AND channel.credentials = %(credentials)s AND channel.status <> '{Channel.Status.PAUSED}'
    ON CONFLICT (channel_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
    RETURNING id
"""


async def payload_receive_verified(
    connection,
    *,
    channel: Channel,
    stored_credentials: str,
    source: str,
    body: bytes,
    headers: dict,
    content_type: str = "",
    external_id: str | None = None,
) -> int | None:
    """Store a payload whose request was verified against `channel` as read earlier (on an async psycopg
    connection in autocommit); the new payload's id, or None when nothing was stored: the channel has
    changed since (paused, token rotated, new secret...) or the payload is a redelivery. The caller then
    hands the request to `payload_receive`'s path, which reads everything afresh, and enqueues the id
    itself (`payloads_enqueue`)."""
    from psycopg.types.json import Jsonb

    cursor = await connection.execute(
        _RECEIVE_VERIFIED_SQL,
        {
            "source": source,
            "external_id": external_id[:500] if external_id else None,
            "body": body,
            "content_type": content_type[:200],
            "headers": Jsonb(headers),
            "channel": channel.pk,
            "token": channel.webhook_token,
            "kind": channel.kind,
            "credentials": stored_credentials,
        },
    )
    row = await cursor.fetchone()
    return row[0] if row else None


# Rows stored by one statement (one array a column): statements of a bounded size.
RECEIVE_MANY_CHUNK = 5000


def payload_receive_many(
    *,
    channel: Channel,
    source: str,
    items: list[tuple[str | None, bytes]],
    content_type: str = "application/json",
) -> list[str | None]:
    """Store many payloads with few statements (bulk import, polls); returns the external ids of those that
    were new (the others were stored before)."""
    new: list[str | None] = []
    with transaction.atomic():
        for start in range(0, len(items), RECEIVE_MANY_CHUNK):
            chunk = items[start : start + RECEIVE_MANY_CHUNK]
            new += _insert_payloads(channel, source, chunk, content_type)
    return new


def _insert_payloads(
    channel: Channel, source: str, items: list[tuple[str | None, bytes]], content_type: str
) -> list[str | None]:
    with bulk_sql.binary_cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO ingestion_rawpayload
                (organization_id, channel_id, source, external_id, body, content_type, headers, status,
                 rejection_reason, attempts, received_at)
            SELECT %s, %s, %s, item.external_id, item.body, %s, '{}'::jsonb, 'received', '', 0, now()
            FROM unnest(%b::varchar[], %b::bytea[]) AS item(external_id, body)
            ON CONFLICT (channel_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
            RETURNING id, external_id
            """,
            [
                channel.organization_id,
                channel.pk,
                source,
                content_type,
                [external_id for external_id, _ in items],
                [body for _, body in items],
            ],
        )
        new = cursor.fetchall()
    _enqueue([payload_id for payload_id, _ in new], source=source)
    return [external_id for _, external_id in new]


def payload_refuse(*, channel: Channel, source: str, body: bytes, headers: dict, reason: str) -> RawPayload:
    """Keep a payload refused at the door (forged, oversized) for inspection, already rejected."""
    return RawPayload.objects.create(
        organization_id=channel.organization_id,
        channel=channel,
        source=source,
        body=body[:KEPT_BYTES_OF_REFUSED],
        headers=headers,
        status=RawPayload.Status.REJECTED,
        rejection_reason=reason,
    )


def _interpret(payload: RawPayload) -> Interpretation:
    body = bytes(payload.body)
    if payload.source == RawPayload.Source.IMPORT:
        return Interpretation(messages=messages_from_payload(body))
    return connector_for(payload.channel.kind).interpret(payload.channel, body, payload.headers)


def _interpret_or_reject(payload: RawPayload) -> Interpretation | None:
    """What the payload carries, or None after marking it rejected with the reason."""
    payload.attempts += 1
    try:
        return _interpret(payload)
    except PayloadRejected as error:
        payload.status = RawPayload.Status.REJECTED
        payload.rejection_reason = error.reason[:2000]
        logger.warning("payload rejected", extra={"payload": payload.pk, "reason": error.reason})
        return None


# Ignored events kept in a payload's outcome (a poll page can carry hundreds of the same kind).
MAX_IGNORED_KEPT = 20


@dataclass
class _Applied:
    receipts: list[Message]
    updated: list[Message]
    fallbacks: list[Item]


def _apply(payload: RawPayload, found: Interpretation) -> _Applied:
    """Apply the payload's receipts and updates to stored messages, and settle its outcome; the edits of
    messages never stored come back as messages to store."""
    unmatched_receipts: list = []
    receipts = []
    if found.receipts:
        receipts = messages_delivery_update(
            channel=payload.channel, updates=found.receipts, unmatched=unmatched_receipts
        )
    updated, unmatched = (
        messages_apply_updates(channel=payload.channel, updates=found.updates) if found.updates else ([], [])
    )
    fallbacks = [
        Item(channel=payload.channel, inbound=update.fallback, payload=payload)
        for update in unmatched
        if update.fallback is not None
    ]
    ignored = [*found.ignored]
    ignored += [
        Ignored(
            f"status:{receipt.platform_status}",
            f"a '{receipt.platform_status}' receipt for {receipt.external_id or 'no message id'}, "
            "which is no message sent from CXM on this channel",
        )
        for receipt in unmatched_receipts
    ]
    ignored += [
        Ignored(update.event_type, f"the {update.action} of {update.target}, a message never stored here")
        for update in unmatched
        if update.fallback is None
    ]
    stored = len(found.messages) + len(fallbacks)
    applied = len(found.receipts) - len(unmatched_receipts) + len(found.updates) - len(unmatched)
    payload.outcome = {"stored": stored, "applied": applied}
    if ignored:
        payload.outcome["ignored"] = [{"event": i.event_type, "reason": i.reason} for i in ignored][
            :MAX_IGNORED_KEPT
        ]
    payload.processed_at = timezone.now()
    payload.rejection_reason = ""
    payload.event_type = payload.ignored_reason = ""
    if stored:
        payload.status = RawPayload.Status.PROCESSED
    elif applied:
        payload.status = RawPayload.Status.APPLIED
    else:
        payload.status = RawPayload.Status.IGNORED
        if not ignored:  # a connector that returned nothing at all still owes a reason
            ignored = [Ignored("empty", "the payload carries no event")]
        payload.event_type = ignored[0].event_type[:100]
        payload.ignored_reason = "; ".join(dict.fromkeys(i.reason for i in ignored))[:2000]
    return _Applied(receipts, updated, fallbacks)


def _save_outcomes(payloads: list[RawPayload]) -> None:
    """One UPDATE per distinct outcome: a batch of payloads that each stored a message (the usual case)
    is settled by a single statement."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for payload in payloads:
        key = (payload.status, payload.event_type, payload.ignored_reason, json.dumps(payload.outcome))
        groups[key].append(payload.pk)
    now = timezone.now()
    for (status, event_type, reason, outcome), pks in groups.items():
        RawPayload.objects.filter(pk__in=pks).update(
            status=status,
            processed_at=now,
            rejection_reason="",
            event_type=event_type,
            ignored_reason=reason,
            outcome=json.loads(outcome),
            attempts=F("attempts") + 1,
        )


def _ingest_locked(payloads: list[RawPayload]) -> list[Message]:
    """Interpret and ingest payloads whose rows the caller holds locked, all messages in one set; then
    apply the updates they carry (they may name messages of the same set) and settle each outcome."""
    items = []
    found: list[tuple[RawPayload, Interpretation]] = []
    for payload in payloads:
        interpretation = _interpret_or_reject(payload)
        if interpretation is not None:
            found.append((payload, interpretation))
            items += [
                Item(channel=payload.channel, inbound=inbound, payload=payload)
                for inbound in interpretation.messages
            ]
    created = messages_ingest(items)
    receipts: list[Message] = []
    updated: list[Message] = []
    fallbacks: list[Item] = []
    for payload, interpretation in found:
        applied = _apply(payload, interpretation)
        receipts += applied.receipts
        updated += applied.updated
        fallbacks += applied.fallbacks
    if fallbacks:
        created += messages_ingest(fallbacks)
    _save_outcomes([payload for payload, _ in found])
    for payload in payloads:
        if payload.status == RawPayload.Status.REJECTED:
            payload.save(update_fields=["status", "rejection_reason", "attempts"])
    transaction.on_commit(lambda: pipeline.after_commit(created, delivered=receipts, updated=updated))
    return created


def _locked_payloads(payload_ids: list[int], *, skip_locked: bool) -> list[RawPayload]:
    payloads = list(
        RawPayload.objects.select_for_update(of=("self",), skip_locked=skip_locked)
        .filter(pk__in=payload_ids, status=RawPayload.Status.RECEIVED)
        .order_by("pk")
    )
    # One Channel object for all the payloads of a channel, read once (a join would build one a payload,
    # and decrypt its credentials each time).
    channels = Channel.objects.select_related("brand", "organization").in_bulk(
        {payload.channel_id for payload in payloads}
    )
    for payload in payloads:
        payload.channel = channels[payload.channel_id]
    return payloads


def payload_process(*, payload_id: int) -> RawPayload | None:
    """Process one stored payload; safe to run twice (the second run finds it processed)."""
    with transaction.atomic():
        payloads = _locked_payloads([payload_id], skip_locked=False)
        if payloads:
            _ingest_locked(payloads)
    return payloads[0] if payloads else RawPayload.objects.filter(pk=payload_id).first()


# A worker that wakes up for one payload takes others waiting with it: under load, webhooks are then
# processed in sets like imports, at the price of a payload now and then done by a neighbour's task.
COALESCE_LIMIT = 100


def payload_process_with_waiting(*, payload_id: int) -> int:
    waiting = list(
        RawPayload.objects.filter(status=RawPayload.Status.RECEIVED, pk__gt=payload_id - 10_000)
        .exclude(pk=payload_id)
        .exclude(source=RawPayload.Source.IMPORT)  # a chunk of an import is a task's worth on its own
        .order_by("pk")
        .values_list("pk", flat=True)[: COALESCE_LIMIT - 1]
    )
    return payloads_process(payload_ids=[payload_id, *waiting])


def payloads_process(*, payload_ids: list[int]) -> int:
    """Process many payloads in one transaction and one set of statements.

    Payloads another worker holds right now are skipped: that worker is processing them.
    """
    with transaction.atomic():
        payloads = _locked_payloads(payload_ids, skip_locked=True)
        _ingest_locked(payloads)
    return len(payloads)


def payload_fail(*, payload_id: int, reason: str) -> None:
    """Retries are exhausted for an unexpected error: reject with the reason, so it can be replayed."""
    RawPayload.objects.filter(pk=payload_id, status=RawPayload.Status.RECEIVED).update(
        status=RawPayload.Status.REJECTED, rejection_reason=f"failed after retries: {reason}"[:2000]
    )


def payload_broken(*, payload_id: int, reason: str) -> None:
    """Processing raised an unexpected error. A chunk of an import (many rows) is split into a payload per
    row, processed anew, so that the row at fault is rejected alone with its reason and the others are
    stored; any other payload is rejected with the reason, to be replayed after a fix."""
    with transaction.atomic():
        chunk = (
            RawPayload.objects.select_for_update(of=("self",))
            .select_related("channel")
            .filter(pk=payload_id, status=RawPayload.Status.RECEIVED, source=RawPayload.Source.IMPORT)
            .first()
        )
        rows = _chunk_rows(chunk) if chunk else []
        if len(rows) < 2:
            payload_fail(payload_id=payload_id, reason=reason)
            return
        payload_receive_many(
            channel=chunk.channel,
            source=RawPayload.Source.IMPORT,
            items=[
                (f"{chunk.external_id}:{row['id']}"[:500], json.dumps(row, ensure_ascii=False).encode())
                for row in rows
            ],
        )
        chunk.status = RawPayload.Status.PROCESSED
        chunk.processed_at = timezone.now()
        chunk.headers = {**chunk.headers, "split_into_rows_after": reason[:2000]}
        chunk.save(update_fields=["status", "processed_at", "headers"])


def _chunk_rows(payload: RawPayload) -> list[dict]:
    try:
        data = decode_json(bytes(payload.body))
    except PayloadRejected:
        return []
    rows = data.get("messages") if isinstance(data, dict) else None
    return rows if isinstance(rows, list) and all(isinstance(r, dict) and "id" in r for r in rows) else []


def payload_replay(*, payload: RawPayload) -> RawPayload:
    """Send a rejected payload through the pipeline again (after a fix)."""
    with transaction.atomic():
        updated = RawPayload.objects.filter(pk=payload.pk, status=RawPayload.Status.REJECTED).update(
            status=RawPayload.Status.RECEIVED, rejection_reason=""
        )
        if updated:
            _enqueue([payload.pk], source=payload.source)
    payload.refresh_from_db()
    return payload


def payloads_stuck(*, older_than: timedelta = timedelta(minutes=10)):
    """Payloads received but not processed for a while: their task was lost (e.g. Redis lost its queue)."""
    return RawPayload.objects.filter(
        status=RawPayload.Status.RECEIVED, received_at__lt=timezone.now() - older_than
    )


def payloads_republish(
    *,
    older_than: timedelta,
    limit: int,
    after_pk: int = 0,
    before_pk: int | None = None,
    allowed: Callable[[int], bool] | None = None,
) -> tuple[list[int], bool]:
    """Publish again the tasks of payloads received more than `older_than` ago and still waiting (ids
    between `after_pk` and `before_pk`), that no worker is processing now (their rows are not locked),
    in id order: the relay's pass (relay.py). Returns the ids published and whether the broker took them
    all."""
    waiting = payloads_stuck(older_than=older_than).filter(pk__gt=after_pk)
    if before_pk is not None:
        waiting = waiting.filter(pk__lt=before_pk)
    with transaction.atomic():
        waiting = list(
            waiting.select_for_update(skip_locked=True).order_by("pk").values_list("pk", "source")[:limit]
        )
    waiting = [(pk, source) for pk, source in waiting if allowed is None or allowed(pk)]
    published = True
    for source in {source for _, source in waiting}:
        ids = [pk for pk, of in waiting if of == source]
        published = payloads_enqueue(ids, **_enqueue_options(source)) and published
    return [pk for pk, _ in waiting], published


def payloads_requeue_stuck(*, older_than: timedelta = timedelta(minutes=10)) -> int:
    stuck = list(payloads_stuck(older_than=older_than).values_list("pk", "source")[:5000])
    with transaction.atomic():
        for source in {source for _, source in stuck}:
            _enqueue([pk for pk, of in stuck if of == source], source=source)
    return len(stuck)


# Edits kept in a message's history, newest last; older ones beyond this are dropped from the history.
MAX_EDITS_KEPT = 50


def messages_apply_updates(*, channel, updates) -> tuple[list[Message], list]:
    """Apply later changes (MessageUpdate: edits, deletions and revokes, reactions) to messages stored on
    the channel, in the order given. Returns the messages changed and the updates naming no stored
    message. A deleted message keeps its text (audit); an edit keeps the previous text in its history."""
    targets = {update.target for update in updates}
    messages = {
        message.external_id: message
        for message in Message.objects.filter(channel=channel, external_id__in=targets).select_for_update()
    }
    changed: dict[int, Message] = {}
    unmatched = []
    for update in updates:
        message = messages.get(update.target)
        if message is None:
            unmatched.append(update)
            continue
        metadata = dict(message.metadata)
        if update.action == MessageUpdate.EDIT:
            fields = update.metadata or {}
            before = {
                key: metadata[key] for key in fields if key in metadata and metadata[key] != fields[key]
            }
            text_changed = bool(update.text) and update.text != message.text
            if update.metadata is not None and not text_changed and fields.items() <= metadata.items():
                continue  # the same object read again: nothing changed
            if text_changed or before:
                edit = {"text": message.text, "until": update.at.isoformat()}
                if before:
                    edit["metadata"] = before  # e.g. the stars a review had before its edit
                metadata["edits"] = [*metadata.get("edits", []), edit][-MAX_EDITS_KEPT:]
            if text_changed:
                message.text = update.text
                message.html = ""
            metadata.update(fields)
            message.edited_at = update.at
        elif update.action == MessageUpdate.DELETE:
            message.deleted_at = message.deleted_at or update.at
            if update.actor:
                metadata["deleted_by"] = update.actor
        elif update.action in (MessageUpdate.REACT, MessageUpdate.UNREACT):
            reactions = dict(metadata.get("reactions", {}))
            if update.action == MessageUpdate.REACT and update.emoji:
                reactions[update.actor or "?"] = update.emoji
            else:
                reactions.pop(update.actor or "?", None)
            metadata["reactions"] = reactions
        message.metadata = metadata
        changed[message.pk] = message
    if changed:
        Message.objects.bulk_update(
            list(changed.values()), ["text", "html", "edited_at", "deleted_at", "metadata"]
        )
    return list(changed.values()), unmatched


def payloads_erase(*, payload_ids: list[int], **_) -> None:
    """Receiver of customers.hooks.customer_erasing: the raw payloads a person's messages came in."""
    RawPayload.objects.filter(pk__in=payload_ids).update(
        body=b"", headers={}, rejection_reason="erased on request"
    )
