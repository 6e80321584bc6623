"""Routing's receivers of the hooks of the layers below it (apps/core/hooks.py), connected in ready()."""

from __future__ import annotations

from django.db import transaction

from apps.conversations import hooks as domain_hooks
from apps.conversations.models import Message
from apps.ingestion import hooks as ingestion_hooks


def _deadlines(messages) -> None:
    from .services import sla_deadlines_fill

    sla_deadlines_fill(messages)


def _stored(messages) -> None:
    """New messages: conversations that got a customer's message are routed and start their SLA row, in a
    task on the live queue so that ingestion never waits for it."""
    from .services import sla_response_sent
    from .tasks import conversations_route_task

    # A bulk import brings history, not customers waiting now: it is not routed.
    conversation_ids = sorted(
        {
            m.conversation_id
            for m in messages
            if m.direction == Message.Direction.INBOUND
            and getattr(m._state.fields_cache.get("raw_payload"), "source", None) != "import"
        }
    )
    if conversation_ids:
        transaction.on_commit(lambda: conversations_route_task.delay(conversation_ids))
    for message in messages:
        if message.direction == Message.Direction.OUTBOUND:
            sla_response_sent(message)  # a reply read back from the channel, sent outside CXM


def _changed(event, messages) -> None:
    if event == "message.classified":
        from .services import sla_priority_changed

        sla_priority_changed(conversation_ids={m.conversation_id for m in messages})
        return
    if event != "message.created":
        return
    from .services import sla_response_sent

    for message in messages:
        if message.direction == Message.Direction.OUTBOUND:
            sla_response_sent(message)


def _priority_set(**kwargs) -> None:
    from .services import sla_priority_set

    sla_priority_set(**kwargs)


def _conversations(conversations) -> None:
    from .services import sla_conversations_changed

    sla_conversations_changed(conversations)


def connect() -> None:
    ingestion_hooks.before_insert.connect(_deadlines)
    domain_hooks.messages_stored.connect(_stored)
    domain_hooks.messages_changed.connect(_changed)
    domain_hooks.conversations_changed.connect(_conversations)
    domain_hooks.priority_set.connect(_priority_set)
