"""The steps every ingested message goes through after it is stored, in order.

Ingestion knows none of the apps that react to messages: it sends hooks, and they plug in
(docs/architecture.md). Before the insert, `hooks.before_insert` fills in the new messages (language), so
that the insert writes them once (routing: each inbound message's response deadline by its SLA policy, as
`message.sla_due_at`). The deadline (`sla_deadline`) is written with each conversation's counters by
ingest. `hooks.in_transaction` runs inside the payload's transaction once the messages are stored (they may
write): listening queries. `after_commit` sends the domain's hooks once the
messages are visible to everyone: classification (its own tasks), live events, search indexing, webhooks,
rollups.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from apps.connectors.kinds import PRIVATE_KINDS
from apps.conversations import hooks as domain_hooks
from apps.conversations.models import Message

from . import hooks

# Response targets of messages no SLA policy covers (apps.routing sets the others before the insert).
SLA_PRIVATE = timedelta(hours=4)
SLA_PUBLIC = timedelta(hours=24)


def sla_deadline(message: Message) -> datetime:
    """When the brand's response to an inbound message is due: the deadline a before_insert receiver gave it
    (routing: the SLA policy in business hours), else the default targets. Ingestion starts the
    conversation's clock with it, in the statement that writes the conversation's counters."""
    due = getattr(message, "sla_due_at", None)
    if due is not None:
        return due
    target = SLA_PRIVATE if message.channel.kind in PRIVATE_KINDS else SLA_PUBLIC
    return message.sent_at + target


def before_insert(messages: list[Message]) -> None:
    hooks.before_insert.send(messages)


def in_transaction(messages: list[Message]) -> None:
    hooks.in_transaction.send(messages)


def after_commit(messages: list[Message], delivered: list[Message] = (), updated: list[Message] = ()) -> None:
    domain_hooks.messages_stored.send(list(messages))
    domain_hooks.messages_changed.send("message.delivery", list(delivered))
    domain_hooks.messages_changed.send("message.updated", list(updated))  # edits, deletions, reactions
