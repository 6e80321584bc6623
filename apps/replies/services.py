"""State changes of replies: sending and scheduling within the channel's limits, retrying a failed delivery,
saved replies, and the resolution examples that suggestions are drawn from."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import numpy as np
from django.db import transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from apps.conversations.models import Conversation, Message
from apps.conversations.services import conversations_refresh_needs_reply
from apps.core.audit import audit_record

from .limits import LimitIssue, reply_limits
from .models import ENCODER, Macro, ResolutionExample, SavedReply, Scope, Shelved
from .variables import variable_values, variables_template, without_variables

#: The longest question kept with a resolution example (the encoder reads the start of a text anyway).
QUESTION_CHARS = 2000


class ReplyRefused(ValueError):
    """A reply that cannot go out; `issues` are the blocking reasons, in words for the agent."""

    def __init__(self, issues: list[LimitIssue]):
        super().__init__(" ".join(issue.message for issue in issues))
        self.issues = issues


def texts_encode(texts: list[str]) -> np.ndarray:
    """L2-normalised sentence vectors of the texts, with the encoder loaded once per process.
    Raises EncoderUnavailable when the encoder cannot run here."""
    from apps.classification.features import features_for

    return features_for(ENCODER).vectors(texts)


def _announce(event: str, message) -> None:
    """Tell the open inboxes and conversation pages, once committed, of a new reply ("message.created") or
    of a change of its delivery status ("message.delivery")."""
    from apps.conversations.hooks import messages_changed

    transaction.on_commit(lambda: messages_changed.send(event, [message]))


def _refuse_beyond_limits(conversation, channel, **reply) -> None:
    blocking = [issue for issue in reply_limits(conversation, channel, **reply) if issue.blocking]
    if blocking:
        raise ReplyRefused(blocking)


@transaction.atomic
def reply_send(
    *,
    conversation,
    author,
    text: str,
    channel=None,
    send_at: datetime | None = None,
    metadata: dict | None = None,
):
    """An agent's reply, sent now or at `send_at` on the conversation's channel or another channel of its
    brand where the customer has an identity. Raises ReplyRefused when the channel's limits forbid it."""
    channel = channel or conversation.channel
    _refuse_beyond_limits(conversation, channel, text=text, send_at=send_at)
    message = reply_create(
        conversation=conversation,
        author=author,
        text=text,
        channel=channel,
        send_at=send_at,
        metadata=metadata,
    )
    audit_record(
        organization=conversation.organization,
        actor=author,
        action=f"reply.{message.delivery_status}",
        target=message,
        data={"conversation": conversation.pk, "channel": channel.pk, "send_at": message.sent_at.isoformat()},
    )
    _announce("message.created", message)
    return message


@transaction.atomic
def reply_retry(*, message, actor):
    """Queue a failed reply again, if its channel's limits still allow it (a messaging window may have
    closed since). The reason of the failure stays in the audit log."""
    from apps.conversations.models import Message

    from .tasks import send_message_task

    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("conversation__brand", "conversation__customer", "conversation__channel", "channel")
        .get(pk=message.pk)
    )
    if message.direction != Message.Direction.OUTBOUND or message.delivery_status != Message.Delivery.FAILED:
        only_failed = "Only a reply whose delivery failed can be retried."
        raise ReplyRefused([LimitIssue("retry", only_failed, blocking=True)])
    _refuse_beyond_limits(message.conversation, message.channel, text=message.text)
    failure = message.delivery_error
    message.delivery_status = Message.Delivery.QUEUED
    message.delivery_error = ""
    message.sent_at = timezone.now()
    message.save(update_fields=["delivery_status", "delivery_error", "sent_at"])
    audit_record(
        organization=message.conversation.organization,
        actor=actor,
        action="reply.retried",
        target=message,
        data={"failure": failure},
    )
    transaction.on_commit(lambda: send_message_task.delay(message.pk))
    _announce("message.delivery", message)
    return message


# ------------------------------------------------------------------------------------------ saved replies


class ShelfRefused(ValueError):
    """A saved reply or macro that this member may not save or delete; the message says why."""


def _shelf_check(item: Shelved, membership) -> None:
    """The scoping rule (selectors.shelf_editable / shelf_scopes) applied to a write."""
    from django.core.exceptions import ValidationError

    from .selectors import shelf_editable, shelf_scopes

    if membership is None or not membership.can_work_inbox:
        raise ShelfRefused("Only the inbox roles keep saved replies and macros.")
    item.organization_id = item.organization_id or membership.organization_id
    if item.scope not in dict(shelf_scopes(membership=membership)):
        raise ShelfRefused(
            "Agents keep personal items; team, brand and organisation ones are made by admins."
        )
    if item.scope == Scope.PERSONAL and item.owner_id is None:
        item.owner = membership.user
    if not shelf_editable(item, membership=membership):
        raise ShelfRefused("Only its owner changes a personal item.")
    if item.pk is not None:
        stored = type(item).objects.filter(pk=item.pk).first()
        if stored is None or not shelf_editable(stored, membership=membership):
            raise ShelfRefused("Only its owner, or an admin for shared ones, changes it.")
    if item.brand_id and membership.limited_to_brands and item.brand_id not in membership.brand_ids:
        raise ShelfRefused("You do not work on that brand.")
    try:
        item.full_clean()
    except ValidationError as error:
        raise ShelfRefused(" ".join(error.messages)) from error


@transaction.atomic
def saved_reply_save(*, saved_reply: SavedReply, actor, membership=None) -> SavedReply:
    """Create or change a saved reply; a new title or body is embedded again when next needed. With a
    `membership` (pages, API) the scoping rule decides whether it may (ShelfRefused); without, it is the
    organisation's own doing (the Django admin, the demo)."""
    if membership is not None:
        _shelf_check(saved_reply, membership)
    if saved_reply.pk is None:
        saved_reply.created_by = actor if getattr(actor, "pk", None) else None
    else:
        before = SavedReply.objects.filter(pk=saved_reply.pk).values("title", "body").first()
        if before != {"title": saved_reply.title, "body": saved_reply.body}:
            saved_reply.embedding = None
    saved_reply.full_clean()
    saved_reply.save()
    audit_record(
        organization=saved_reply.organization,
        actor=actor,
        action="saved_reply.saved",
        target=saved_reply,
        data={"title": saved_reply.title, "scope": saved_reply.scope},
    )
    return saved_reply


@transaction.atomic
def shelf_delete(*, item: Shelved, membership) -> None:
    """Delete a saved reply or a macro (the scoping rule decides who may)."""
    from .selectors import shelf_editable

    if not shelf_editable(item, membership=membership):
        raise ShelfRefused("Only its owner, or an admin for shared ones, deletes it.")
    kind = item._meta.model_name
    audit_record(
        organization=item.organization,
        actor=membership.user,
        action=f"{kind}.deleted",
        target=item,
        data={"name": str(item)},
    )
    item.delete()


def saved_reply_used(*, saved_reply: SavedReply) -> None:
    """Count one use (inserted in the composer, or by a macro)."""
    SavedReply.objects.filter(pk=saved_reply.pk).update(
        usage_count=F("usage_count") + 1, last_used_at=timezone.now()
    )


@transaction.atomic
def macro_save(*, macro: Macro, membership) -> Macro:
    """Create or change a macro: its actions checked (macros.MacroRefused), the scoping rule applied."""
    from .macros import MacroRefused, macro_actions_clean

    try:
        macro.actions = macro_actions_clean(macro.actions, organization_id=membership.organization_id)
    except MacroRefused as error:
        raise ShelfRefused(str(error)) from error
    _shelf_check(macro, membership)
    if macro.pk is None:
        macro.created_by = membership.user
    macro.save()
    audit_record(
        organization=macro.organization,
        actor=membership.user,
        action="macro.saved",
        target=macro,
        data={"name": macro.name, "scope": macro.scope, "actions": macro.actions},
    )
    return macro


def saved_replies_embed(*, saved_replies: QuerySet[SavedReply]) -> int:
    """Embed those of the saved replies that are new or changed since they were last embedded."""
    waiting = list(saved_replies.filter(embedding=None))
    if not waiting:
        return 0
    vectors = texts_encode([without_variables(f"{reply.title}\n{reply.body}") for reply in waiting])
    for reply, vector in zip(waiting, vectors, strict=True):
        reply.embedding = vector
    SavedReply.objects.bulk_update(waiting, ["embedding"])
    return len(waiting)


# ------------------------------------------------------------------------------------ resolution examples


def resolution_example_record_if_closed(*, conversation) -> None:
    """Once a conversation is closed (and committed), a worker records what resolved it."""
    from apps.conversations.models import Conversation

    from .tasks import resolution_example_record_task

    if conversation.status == Conversation.Status.CLOSED:
        conversation_id = conversation.pk
        transaction.on_commit(lambda: resolution_example_record_task.delay(conversation_id))


def _resolved(conversation_ids: Iterable[int]) -> QuerySet:
    """The closed conversations among `conversation_ids` (not spam, not erased) with the id of their last
    reply and of the customer's last message before it."""
    from apps.conversations.models import Conversation, Message
    from apps.conversations.services import SPAM

    replies = (
        Message.objects.filter(conversation=OuterRef("pk"), direction=Message.Direction.OUTBOUND)
        .exclude(delivery_status__in=[Message.Delivery.FAILED, Message.Delivery.SCHEDULED])
        .exclude(text="")
        .order_by("-sent_at", "-pk")
    )
    questions = (
        Message.objects.filter(
            conversation=OuterRef("pk"),
            direction=Message.Direction.INBOUND,
            sent_at__lte=OuterRef("reply_at"),
        )
        .exclude(text="")
        .order_by("-sent_at", "-pk")
    )
    return (
        Conversation.objects.filter(
            pk__in=list(conversation_ids), status=Conversation.Status.CLOSED, customer__erased_at=None
        )
        .exclude(tags__name=SPAM)
        .annotate(
            reply_id=Subquery(replies.values("pk")[:1]), reply_at=Subquery(replies.values("sent_at")[:1])
        )
        .annotate(question_id=Subquery(questions.values("pk")[:1]))
        .filter(question_id__isnull=False)
        .select_related("brand", "customer")
    )


def resolution_examples_record(*, conversation_ids: Iterable[int]) -> int:
    """Record, for each closed conversation, the customer's question and the reply that resolved it, with
    the question's embedding (one encoder batch for all); a conversation closed again is recorded anew.
    Returns how many were recorded."""
    from apps.classification.language import UNDETERMINED, detect
    from apps.conversations.models import Message

    conversations = list(_resolved(conversation_ids))
    if not conversations:
        return 0
    messages = Message.objects.select_related("author_user").in_bulk(
        [c.reply_id for c in conversations] + [c.question_id for c in conversations]
    )
    replies = [messages[c.reply_id] for c in conversations]
    questions = [messages[c.question_id].text[:QUESTION_CHARS] for c in conversations]
    vectors = texts_encode(questions)
    languages = detect([reply.text for reply in replies])
    with transaction.atomic():
        for conversation, reply, question, vector, language in zip(
            conversations, replies, questions, vectors, languages, strict=True
        ):
            values = variable_values(
                customer=conversation.customer, brand=conversation.brand, agent=reply.author_user
            )
            if language == UNDETERMINED:
                language = messages[conversation.question_id].language or conversation.language or language
            ResolutionExample.objects.update_or_create(
                conversation=conversation,
                defaults={
                    "organization_id": conversation.organization_id,
                    "brand_id": conversation.brand_id,
                    "reply_message": reply,
                    "language": language,
                    "intent": messages[conversation.question_id].intent or conversation.intent,
                    "question_text": question,
                    "reply_text": variables_template(reply.text, values),
                    "embedding": vector,
                    "encoder": ENCODER,
                },
            )
    return len(conversations)


def resolution_examples_erase(*, conversation_ids: list[int], **_) -> None:
    """Receiver of customers.hooks.customer_erasing: reply examples built from their conversations."""
    ResolutionExample.objects.filter(conversation_id__in=conversation_ids).delete()


@transaction.atomic
def reply_create(
    *,
    conversation: Conversation,
    author,
    text: str,
    channel=None,
    send_at: datetime | None = None,
    metadata: dict | None = None,
) -> Message:
    """An agent's reply: stored as an outbound message, then delivered by a worker through the connector.

    `channel` may be another channel of the same brand where the customer has an identity; `send_at`
    schedules the delivery; `metadata["buttons"]` ([{"text", "data"}]) asks the connectors that can for
    buttons under the message (a satisfaction survey's ratings).
    """
    from .tasks import send_message_task  # tasks import these services

    channel = channel or conversation.channel
    if channel.brand_id != conversation.brand_id:
        raise ValueError("a reply goes out on a channel of the conversation's brand")
    scheduled = send_at is not None and send_at > timezone.now()
    message = Message.objects.create(
        organization_id=conversation.organization_id,
        conversation=conversation,
        channel=channel,
        direction=Message.Direction.OUTBOUND,
        text=text,
        author_user=author,
        sent_at=send_at or timezone.now(),
        delivery_status=Message.Delivery.SCHEDULED if scheduled else Message.Delivery.QUEUED,
        metadata=metadata or {},
    )
    updates: dict = {"message_count": F("message_count") + 1, "last_message_at": message.sent_at}
    if conversation.first_response_at is None:
        updates["first_response_at"] = message.sent_at
    Conversation.objects.filter(pk=conversation.pk).update(**updates)
    conversations_refresh_needs_reply(conversation_ids=[conversation.pk])  # the reply answers what waited
    if not scheduled:
        # Scheduled replies are sent by send_scheduled_messages_task when due, not as broker ETAs, which
        # Redis would redeliver after its visibility timeout.
        transaction.on_commit(lambda: send_message_task.delay(message.pk))
    return message


def on_status_set(*, conversation, **_) -> None:
    """Receiver of conversations.hooks.status_set: a closed conversation's resolution is recorded."""
    resolution_example_record_if_closed(conversation=conversation)
