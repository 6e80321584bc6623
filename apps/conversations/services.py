"""State changes of conversations and messages. Every entry point (pages, API, tasks) goes through here."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import datetime

import nh3
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from apps.core.audit import audit_record

from .hooks import (
    assigned,
    conversations_changed,
    marked_spam,
    note_added,
    priority_set,
    status_set,
    unsnoozed,
)
from .labels import UNDETERMINED, WAITING_MAX, WAITING_PER_HOUR
from .models import Conversation, Message, Tag, ThreadAlias

logger = logging.getLogger(__name__)


def html_sanitise(html: str) -> str:
    """HTML from a platform, reduced to inert formatting: no scripts, handlers, styles or forms."""
    return nh3.clean(html, link_rel="noopener noreferrer nofollow") if html else ""


@transaction.atomic
def message_add(
    *,
    conversation: Conversation,
    direction: str,
    text: str,
    sent_at: datetime | None = None,
    html: str = "",
    external_id: str | None = None,
    language: str = "",
    author_identity=None,
    author_user=None,
    raw_payload=None,
    delivery_status: str | None = None,
    metadata: dict | None = None,
) -> Message:
    """Add one message to a thread and keep the conversation's counters and timestamps current."""
    sent_at = sent_at or timezone.now()
    if delivery_status is None:
        delivery_status = (
            Message.Delivery.RECEIVED if direction != Message.Direction.OUTBOUND else Message.Delivery.QUEUED
        )
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        channel_id=conversation.channel_id,
        direction=direction,
        text=text,
        html=html_sanitise(html),
        external_id=external_id,
        language=language,
        author_identity=author_identity,
        author_user=author_user,
        raw_payload=raw_payload,
        sent_at=sent_at,
        delivery_status=delivery_status,
        metadata=metadata or {},
    )
    updates: dict = {"message_count": F("message_count") + 1}
    is_latest = conversation.last_message_at is None or sent_at > conversation.last_message_at
    if direction != Message.Direction.NOTE and is_latest:
        updates["last_message_at"] = sent_at
    if direction == Message.Direction.OUTBOUND and conversation.first_response_at is None:
        updates["first_response_at"] = sent_at
    if direction == Message.Direction.INBOUND and conversation.status == Conversation.Status.CLOSED:
        # A customer writing again reopens the thread.
        updates["status"] = Conversation.Status.OPEN
        updates["resolved_at"] = None
        updates["version"] = F("version") + 1
    Conversation.objects.filter(pk=conversation.pk).update(**updates)
    # Mirror the update in memory rather than reading the row back.
    conversation.message_count += 1
    for field, value in updates.items():
        if field not in ("message_count", "version"):
            setattr(conversation, field, value)
    return message


@transaction.atomic
def conversation_assign(*, conversation: Conversation, assignee, actor) -> Conversation:
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    conversation.assignee = assignee
    conversation.version += 1
    conversation.save(update_fields=["assignee", "version", "updated_at"])
    audit_record(
        organization=conversation.organization,
        actor=actor,
        action="conversation.assigned",
        target=conversation,
        data={"assignee": assignee.pk if assignee else None},
    )
    return conversation


@transaction.atomic
def conversation_set_status(
    *, conversation: Conversation, status: str, actor, snoozed_until: datetime | None = None
) -> Conversation:
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    previous = conversation.status
    conversation.status = status
    conversation.snoozed_until = snoozed_until if status == Conversation.Status.SNOOZED else None
    conversation.resolved_at = timezone.now() if status == Conversation.Status.CLOSED else None
    conversation.version += 1
    conversation.full_clean(exclude=["customer", "channel", "brand"])
    conversation.save()
    audit_record(
        organization=conversation.organization,
        actor=actor,
        action="conversation.status",
        target=conversation,
        data={"status": status},
    )
    status_set.send(conversation=conversation, actor=actor, previous=previous)
    return conversation


@transaction.atomic
def conversation_set_priority(
    *, conversation: Conversation, priority: float, actor, seen_version: int | None = None
) -> Conversation:
    """Set the priority by hand (0–100; macros, automation rules); waiting raises it again later
    (conversations_reprioritise). With `seen_version`, refuses with ConversationChanged when someone
    changed it since."""
    if not 0 <= priority <= 100:
        raise ConversationActionError("a priority is between 0 and 100")
    conversations_check_seen(conversations=[conversation], seen=_seen(conversation, seen_version))
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    previous = conversation.priority
    conversation.priority = priority
    conversation.version += 1
    conversation.save(update_fields=["priority", "version", "updated_at"])
    audit_record(
        organization=conversation.organization,
        actor=actor,
        action="conversation.priority",
        target=conversation,
        data={"priority": priority},
    )
    priority_set.send(conversation=conversation, actor=actor, previous=previous)
    _announce([conversation])
    return conversation


def tag_get_or_create(*, organization, name: str) -> Tag:
    tag, _ = Tag.objects.get_or_create(organization=organization, name=name.strip()[:60])
    return tag


# A receipt never moves a message backwards: "sent" after "delivered" (receipts arrive out of order) is kept
# as delivered; "failed" counts only until the message is known delivered.
_DELIVERY_RANK = {
    Message.Delivery.QUEUED: 0,
    Message.Delivery.SCHEDULED: 0,
    Message.Delivery.SENT: 1,
    Message.Delivery.DELIVERED: 2,
    Message.Delivery.FAILED: 1,
}


def messages_delivery_update(*, channel, updates, unmatched: list | None = None) -> list[Message]:
    """Apply platform receipts (DeliveryUpdate) to the brand's outbound messages on that channel; those
    naming no outbound message of the channel are added to `unmatched` when given."""
    by_id = {update.external_id: update for update in updates if update.external_id}
    changed = []
    matched = set()
    for message in Message.objects.filter(
        channel=channel, direction=Message.Direction.OUTBOUND, external_id__in=by_id
    ).select_for_update():
        matched.add(message.external_id)
        update = by_id[message.external_id]
        current = _DELIVERY_RANK.get(message.delivery_status, 0)
        if update.status == Message.Delivery.FAILED:
            if message.delivery_status == Message.Delivery.DELIVERED:
                continue
        elif _DELIVERY_RANK.get(update.status, 0) <= current:
            continue
        message.delivery_status = update.status
        message.delivery_error = update.error[:2000] if update.status == Message.Delivery.FAILED else ""
        message.metadata = {**message.metadata, "platform_status": update.platform_status}
        message.save(update_fields=["delivery_status", "delivery_error", "metadata"])
        changed.append(message)
    if unmatched is not None:
        unmatched += [update for update in updates if update.external_id not in matched]
    return changed


def conversations_reprioritise() -> int:
    """Raise the priority of open conversations as they wait for the brand (beat, every few minutes):
    the priority of the customer's latest message plus a bonus per hour of waiting, capped. Only those that
    need a reply (or are not triaged yet) wait: a conversation triaged "optional" or "no_reply" keeps its
    own."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH latest AS (
                SELECT c.id, m.priority, m.sent_at, m.direction
                FROM conversations_conversation c
                CROSS JOIN LATERAL (
                    SELECT priority, sent_at, direction FROM conversations_message
                    WHERE conversation_id = c.id AND direction <> 'note'
                    ORDER BY sent_at DESC, id DESC LIMIT 1
                ) m
                WHERE c.status IN ('open', 'pending')
            )
            UPDATE conversations_conversation c
            SET priority = LEAST(100, latest.priority + LEAST(
                %s, %s * EXTRACT(EPOCH FROM now() - latest.sent_at) / 3600))
            FROM latest
            WHERE c.id = latest.id AND latest.direction = 'inbound' AND latest.priority IS NOT NULL
              -- Waiting weighs on what must be answered (or is not triaged yet), not on what may wait.
              AND c.needs_reply IN ('reply', '')
            """,
            [WAITING_MAX, WAITING_PER_HOUR],
        )
        return cursor.rowcount


# A conversation's triage decision (apps.classification.triage), from its inbound messages that came after
# the brand's last message: the most pressing of their decisions ("reply" before "optional" before
# "no_reply"); empty while one of them waits for the classifier, so that nothing is hidden before it was read;
# "no_reply" when the brand has answered everything (nothing waits for it).
_PENDING_DECISION = """
    SELECT CASE WHEN count(*) = 0 THEN 'no_reply'
                WHEN bool_or(m.needs_reply = '') THEN ''
                WHEN bool_or(m.needs_reply = 'reply') THEN 'reply'
                WHEN bool_or(m.needs_reply = 'optional') THEN 'optional'
                ELSE 'no_reply' END AS needs_reply
    FROM conversations_message m
    WHERE m.conversation_id = wanted.id AND m.direction = 'inbound' AND m.sent_at > coalesce(
        (SELECT max(o.sent_at) FROM conversations_message o
         WHERE o.conversation_id = wanted.id AND o.direction = 'outbound'), '-infinity')
"""


def conversations_refresh_needs_reply(*, conversation_ids: Iterable[int]) -> int:
    """Recompute the conversations' triage decision (after a reply by the brand, a new inbound message)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE conversations_conversation AS c SET needs_reply = pending.needs_reply
            FROM unnest(%s::bigint[]) AS wanted(id)
            CROSS JOIN LATERAL ({_PENDING_DECISION}) pending
            WHERE c.id = wanted.id AND c.needs_reply IS DISTINCT FROM pending.needs_reply
            """,
            [list(conversation_ids)],
        )
        return cursor.rowcount


def conversations_refresh_labels(*, conversation_ids: Iterable[int]) -> int:
    """Copy onto each conversation the labels the inbox filters on: sentiment and intent of its latest
    inbound message that has them (classified or corrected), language of its latest inbound message
    that has one (not "und"), and the triage decision of what waits for the brand (_PENDING_DECISION).
    Call it whenever those messages' labels change; one UPDATE for all."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE conversations_conversation AS c
            SET sentiment = coalesce(labelled.sentiment, ''), intent = coalesce(labelled.intent, ''),
                language = coalesce(spoken.language, ''), needs_reply = pending.needs_reply
            FROM unnest(%s::bigint[]) AS wanted(id)
            LEFT JOIN LATERAL (
                SELECT m.sentiment, m.intent FROM conversations_message m
                WHERE m.conversation_id = wanted.id AND m.direction = 'inbound'
                  AND (m.sentiment <> '' OR m.intent <> '')
                ORDER BY m.sent_at DESC, m.id DESC LIMIT 1
            ) labelled ON true
            LEFT JOIN LATERAL (
                SELECT m.language FROM conversations_message m
                WHERE m.conversation_id = wanted.id AND m.direction = 'inbound' AND m.language NOT IN ('', %s)
                ORDER BY m.sent_at DESC, m.id DESC LIMIT 1
            ) spoken ON true
            LEFT JOIN LATERAL ({_PENDING_DECISION}) pending ON true
            WHERE c.id = wanted.id
            """,
            [list(conversation_ids), UNDETERMINED],
        )
        return cursor.rowcount


# ------------------------------------------------------------------ bulk actions and merge (the inbox list)

#: Conversations one bulk action may change at once (a few pages of the inbox).
BULK_LIMIT = 200
SPAM = "spam"
# From the most to the least active: a merged thread takes the more active status of the two.
_STATUS_ACTIVITY = [
    Conversation.Status.OPEN,
    Conversation.Status.PENDING,
    Conversation.Status.SNOOZED,
    Conversation.Status.CLOSED,
]


class ConversationActionError(ValueError):
    """A bulk action or merge that cannot be done; the message says why, in words for the agent."""


class ConversationChanged(ConversationActionError):
    """Someone changed conversations after the agent saw them: nothing was done. `changed` holds each such
    conversation as it is now (its `version` is the one to send again to go ahead anyway)."""

    def __init__(self, changed: list[Conversation]):
        super().__init__("someone changed it since you looked")
        self.changed = changed


def conversations_check_seen(
    *, conversations: Iterable[Conversation], seen: Mapping[int, int] | None
) -> None:
    """Lock the conversations' rows (in id order, as every action does) and refuse with ConversationChanged
    when any of them is at another version than the one its agent saw. `seen` maps conversation ids to the
    versions shown to the agent; None (or an id left out) checks nothing: a caller that knows no version."""
    ids = sorted({c.pk for c in conversations})
    current = dict(
        Conversation.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "version")
    )
    if not seen:
        return
    stale = [pk for pk in ids if pk in seen and current.get(pk) is not None and current[pk] != seen[pk]]
    if stale:
        raise ConversationChanged(list(Conversation.objects.filter(pk__in=stale).order_by("pk")))


def _checked(conversations: Iterable[Conversation]) -> list[Conversation]:
    """The conversations of one bulk action, in id order (the order their rows are locked in)."""
    conversations = sorted({c.pk: c for c in conversations}.values(), key=lambda c: c.pk)
    if not conversations:
        raise ConversationActionError("select at least one conversation")
    if len(conversations) > BULK_LIMIT:
        raise ConversationActionError(f"select at most {BULK_LIMIT} conversations at once")
    if len({c.organization_id for c in conversations}) > 1:
        raise ConversationActionError("the conversations belong to different organisations")
    return conversations


def _announce(conversations: Iterable[Conversation]) -> None:
    """Tell the apps that react (the open inboxes among them), once the transaction commits, that these
    conversations changed."""
    changed = list(conversations)
    transaction.on_commit(lambda: conversations_changed.send(changed))


def _assign(conversations: list[Conversation], assignee, actor) -> None:
    from apps.accounts.models import Membership

    if assignee is not None:
        membership = Membership.objects.filter(
            user=assignee, organization_id=conversations[0].organization_id
        ).first()
        if membership is None or not membership.can_work_inbox:
            raise ConversationActionError(f"{assignee} does not work this organisation's inbox")
        if membership.limited_to_brands:
            outside = sorted({c.brand.name for c in conversations if c.brand_id not in membership.brand_ids})
            if outside:
                raise ConversationActionError(f"{assignee} does not work on {', '.join(outside)}")
    for conversation in conversations:
        conversation_assign(conversation=conversation, assignee=assignee, actor=actor)


def _tag(conversations: list[Conversation], name: str, actor) -> Tag:
    name = name.strip()
    if not name or len(name) > 60:
        raise ConversationActionError("a tag is 1 to 60 characters long")
    organization = conversations[0].organization  # one for all: _checked() made sure
    tag = tag_get_or_create(organization=organization, name=name)
    through = Conversation.tags.through
    through.objects.bulk_create(
        [through(conversation_id=c.pk, tag_id=tag.pk) for c in conversations], ignore_conflicts=True
    )
    Conversation.objects.filter(pk__in=[c.pk for c in conversations]).update(version=F("version") + 1)
    for conversation in conversations:
        audit_record(
            organization=organization,
            actor=actor,
            action="conversation.tagged",
            target=conversation,
            data={"tag": tag.name},
        )
    return tag


def _set_status(conversations: list[Conversation], status: str, actor) -> None:
    if status not in Conversation.Status.values:
        raise ConversationActionError(f"“{status}” is not a status")
    for conversation in conversations:
        conversation_set_status(conversation=conversation, status=status, actor=actor)


@transaction.atomic
def conversations_bulk_assign(
    *, conversations: Iterable[Conversation], assignee, actor, seen: Mapping[int, int] | None = None
) -> int:
    """Assign the conversations to one agent of their organisation (None: unassign them)."""
    conversations = _checked(conversations)
    conversations_check_seen(conversations=conversations, seen=seen)
    _assign(conversations, assignee, actor)
    _announce(conversations)
    return len(conversations)


@transaction.atomic
def conversations_bulk_tag(
    *, conversations: Iterable[Conversation], name: str, actor, seen: Mapping[int, int] | None = None
) -> Tag:
    """Tag the conversations (the organisation's tag of that name, made if new)."""
    conversations = _checked(conversations)
    conversations_check_seen(conversations=conversations, seen=seen)
    tag = _tag(conversations, name, actor)
    _announce(conversations)
    return tag


@transaction.atomic
def conversations_bulk_set_status(
    *, conversations: Iterable[Conversation], status: str, actor, seen: Mapping[int, int] | None = None
) -> int:
    conversations = _checked(conversations)
    conversations_check_seen(conversations=conversations, seen=seen)
    _set_status(conversations, status, actor)
    _announce(conversations)
    return len(conversations)


@transaction.atomic
def conversations_mark_spam(
    *, conversations: Iterable[Conversation], actor, seen: Mapping[int, int] | None = None
) -> int:
    """Close the conversations and tag them "spam"; where the organisation's intents include "spam", the
    latest inbound message of each is corrected to it (classification, on hooks.marked_spam), so that the
    brand's model learns from it."""
    conversations = _checked(conversations)
    conversations_check_seen(conversations=conversations, seen=seen)
    _tag(conversations, SPAM, actor)
    _set_status(conversations, Conversation.Status.CLOSED, actor)
    marked_spam.send(conversations=conversations, actor=actor)
    _announce(conversations)
    return len(conversations)


def _earliest(*moments: datetime | None) -> datetime | None:
    return min((m for m in moments if m is not None), default=None)


def _latest(*moments: datetime | None) -> datetime | None:
    return max((m for m in moments if m is not None), default=None)


def _move_references(merged: Conversation, kept: Conversation) -> None:
    """Point everything that refers to the merged conversation (its messages, notifications...) at the
    kept one, whichever app it belongs to. One-to-one links, and the tags' table, where a move could
    collide with the kept conversation's own, are left to go with the merged conversation or the caller."""
    for relation in Conversation._meta.get_fields(include_hidden=True):
        if relation.one_to_many and relation.auto_created and not relation.related_model._meta.auto_created:
            name = relation.field.name
            relation.related_model._base_manager.filter(**{name: merged}).update(**{name: kept})


@transaction.atomic
def conversations_merge(
    *, conversations: Iterable[Conversation], actor, seen: Mapping[int, int] | None = None
) -> Conversation:
    """Merge two conversations of one customer and brand into one thread: the older one keeps every
    message, tag and the more active status of the two; the newer one is deleted (the audit log keeps
    what it was). Refuses other pairs with a ConversationActionError."""
    ids = sorted({c.pk for c in conversations})
    if len(ids) != 2:
        raise ConversationActionError("choose exactly two conversations to merge")
    conversations_check_seen(conversations=conversations, seen=seen)
    locked = list(Conversation.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    if len(locked) != 2:
        raise ConversationActionError("one of the conversations no longer exists")
    kept, merged = sorted(locked, key=lambda c: (c.created_at, c.pk))
    if kept.organization_id != merged.organization_id:
        raise ConversationActionError("conversations of different organisations cannot be merged")
    if kept.customer_id != merged.customer_id:
        raise ConversationActionError("only conversations of the same customer can be merged")
    if kept.brand_id != merged.brand_id:
        raise ConversationActionError(
            "conversations of different brands cannot be merged: one thread answers as one brand"
        )
    moved = list(merged.messages.order_by("pk").values_list("pk", flat=True))
    _move_references(merged, kept)  # aliases of the merged conversation's own earlier merges included
    if merged.external_thread_id:
        # The platform still writes to the merged thread: its next messages join the kept conversation.
        ThreadAlias.objects.update_or_create(
            channel_id=merged.channel_id,
            external_thread_id=merged.external_thread_id,
            defaults={"conversation": kept, "organization_id": kept.organization_id},
        )
    through = Conversation.tags.through
    through.objects.bulk_create(
        [
            through(conversation_id=kept.pk, tag_id=tag_id)
            for tag_id in merged.tags.values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )
    more_active = min((kept, merged), key=lambda c: _STATUS_ACTIVITY.index(c.status))
    kept.status, kept.snoozed_until = more_active.status, more_active.snoozed_until
    kept.resolved_at = (
        _latest(kept.resolved_at, merged.resolved_at) if kept.status == Conversation.Status.CLOSED else None
    )
    kept.message_count += merged.message_count
    kept.last_message_at = _latest(kept.last_message_at, merged.last_message_at)
    kept.first_response_at = _earliest(kept.first_response_at, merged.first_response_at)
    kept.sla_due_at = _earliest(kept.sla_due_at, merged.sla_due_at)
    kept.priority = max(kept.priority, merged.priority)
    kept.assignee_id = kept.assignee_id or merged.assignee_id
    kept.team_id = kept.team_id or merged.team_id
    kept.version += 1
    kept.save()
    audit_record(
        organization=kept.organization,
        actor=actor,
        action="conversation.merged",
        target=kept,
        data={
            "merged": merged.pk,
            "messages": moved,
            "merged_subject": merged.subject,
            "merged_channel": merged.channel_id,
            "merged_thread": merged.external_thread_id,
            "merged_status": merged.status,
        },
    )
    _announce([kept, merged])
    merged.delete()
    conversations_refresh_labels(conversation_ids=[kept.pk])
    kept.refresh_from_db()
    return kept


# ------------------------------------------------------- the conversation page: notes, assignment, snooze

NOTE_MAX_CHARS = 10_000
# "@username", not inside a word or an email address ("bob@example.com" mentions nobody). Django usernames
# hold letters, digits and @ . + - _.
_MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]+)")
UNSNOOZE_BATCH = 500


def _mentioned_users(conversation: Conversation, text: str) -> list:
    """The members who may work on the conversation that the text mentions, matched case-insensitively."""
    from .selectors import conversation_members

    candidates = set()
    for token in _MENTION.findall(text):
        # "@bob." ends a sentence: the dot is punctuation unless a username really ends with it.
        candidates |= {token.lower(), token.rstrip(".@+-").lower()}
    if not candidates:
        return []
    members = conversation_members(conversation=conversation).annotate(username_lower=Lower("user__username"))
    return [member.user for member in members.filter(username_lower__in=candidates)]


@transaction.atomic
def note_add(*, conversation: Conversation, author, text: str) -> Message:
    """An internal note on the thread, never sent to the customer. Each @username in it of a member who may
    work on the conversation is notified; anyone else's name (another organisation, another brand, no
    inbox role) stays plain text."""
    text = text.strip()
    if not text:
        raise ConversationActionError("write the note first")
    if len(text) > NOTE_MAX_CHARS:
        raise ConversationActionError(f"a note is at most {NOTE_MAX_CHARS} characters long")
    mentioned = _mentioned_users(conversation, text)
    note = message_add(
        conversation=conversation,
        direction=Message.Direction.NOTE,
        text=text,
        author_user=author,
        metadata={"mentioned": [user.pk for user in mentioned]} if mentioned else None,
    )
    audit_record(
        organization=conversation.organization,
        actor=author,
        action="conversation.noted",
        target=conversation,
        data={"message": note.pk, "mentioned": [user.pk for user in mentioned]},
    )
    # Notifications tells the members mentioned; webhooks announce the note.
    note_added.send(conversation=conversation, note=note, author=author, mentioned=mentioned)
    author_id = getattr(author, "pk", None)  # None: written by an automation rule
    transaction.on_commit(lambda: _tell_viewers(conversation.pk, {"event": "note", "user": author_id}))
    return note


def _seen(conversation: Conversation, version: int | None) -> dict[int, int] | None:
    return None if version is None else {conversation.pk: version}


def _tell_viewers(conversation_id: int, payload: dict) -> None:
    """The pages open on the conversation (ConversationConsumer)."""
    from apps.core.live import conversation_group, live_send

    live_send(conversation_group(conversation_id), "conversation.event", payload)


@transaction.atomic
def conversation_assign_to(
    *, conversation: Conversation, assignee, actor, seen_version: int | None = None
) -> Conversation:
    """Assign the conversation to a member who may work on it (None: unassign it). The assignee is notified,
    unless they took it themselves; the open inboxes hear of it. With `seen_version`, refuses with
    ConversationChanged when someone changed it since (two agents taking it at once: one wins, the other is
    told who took it)."""
    from .selectors import conversation_members

    if (
        assignee is not None
        and not conversation_members(conversation=conversation).filter(user=assignee).exists()
    ):
        raise ConversationActionError(f"{assignee} does not work on this brand's conversations")
    conversations_check_seen(conversations=[conversation], seen=_seen(conversation, seen_version))
    conversation = conversation_assign(conversation=conversation, assignee=assignee, actor=actor)
    assigned.send(conversation=conversation, assignee=assignee, actor=actor)
    _announce([conversation])
    return conversation


@transaction.atomic
def conversation_snooze(
    *, conversation: Conversation, until: datetime, actor, seen_version: int | None = None
) -> Conversation:
    """Put the conversation aside until `until`; conversations_unsnooze_due() reopens it then."""
    if until <= timezone.now():
        raise ConversationActionError("snooze it until a moment in the future")
    conversations_check_seen(conversations=[conversation], seen=_seen(conversation, seen_version))
    conversation = conversation_set_status(
        conversation=conversation, status=Conversation.Status.SNOOZED, actor=actor, snoozed_until=until
    )
    _announce([conversation])
    return conversation


def conversations_unsnooze_due(*, now: datetime | None = None) -> int:
    """Reopen the snoozed conversations whose time has come (beat, every minute; the actor is CXM) and tell
    each one's assignee. Rows that another transaction holds, and any beyond one batch, are left for the next
    run."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Conversation.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("assignee")
            .filter(status=Conversation.Status.SNOOZED, snoozed_until__lte=now)
            .order_by("snoozed_until", "pk")[:UNSNOOZE_BATCH]
        )
        for conversation in due:
            conversation_set_status(conversation=conversation, status=Conversation.Status.OPEN, actor=None)
            unsnoozed.send(conversation=conversation)
        _announce(due)
    return len(due)


@transaction.atomic
def conversation_untag(
    *, conversation: Conversation, tag: Tag, actor, seen_version: int | None = None
) -> None:
    """Take the tag off the conversation (tagging one is conversations_bulk_tag with one conversation)."""
    conversations_check_seen(conversations=[conversation], seen=_seen(conversation, seen_version))
    removed, _ = Conversation.tags.through.objects.filter(
        conversation_id=conversation.pk, tag_id=tag.pk
    ).delete()
    if removed:
        Conversation.objects.filter(pk=conversation.pk).update(version=F("version") + 1)
        audit_record(
            organization=conversation.organization,
            actor=actor,
            action="conversation.untagged",
            target=conversation,
            data={"tag": tag.name},
        )
        _announce([conversation])


@transaction.atomic
def conversation_set_team(*, conversation: Conversation, team, actor) -> Conversation:
    """Put the conversation in a team's queue (None: no team's)."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if team is not None and team.organization_id != conversation.organization_id:
        raise ConversationActionError("that team belongs to another organisation")
    conversation.team = team
    conversation.version += 1
    conversation.save(update_fields=["team", "version", "updated_at"])
    audit_record(
        organization=conversation.organization,
        actor=actor,
        action="conversation.team",
        target=conversation,
        data={"team": team.pk if team else None, "team_name": team.name if team else ""},
    )
    _announce([conversation])
    return conversation
