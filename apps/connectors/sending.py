"""What several connectors read from the database when they send (never when they parse): whom a reply
goes to, and what the inbound message it answers carried."""

from __future__ import annotations

from .base import PayloadRejected


def reply_recipient(channel, message, *, missing: str) -> str:
    """Whom a private reply goes to: the conversation's thread key (the customer's id, chat or number on
    this channel), or, when an agent answers on this channel a conversation from another one, the
    customer's most recently seen identity of this channel's kind. `missing` is the reason given when the
    customer has none."""
    conversation = message.conversation
    if conversation.channel_id == channel.pk and conversation.external_thread_id:
        return conversation.external_thread_id
    from apps.customers.models import Identity
    from apps.customers.selectors import active_customer

    external_id = (
        Identity.objects.filter(customer=active_customer(conversation.customer), kind=channel.kind)
        .order_by("-last_seen_at")
        .values_list("external_id", flat=True)
        .first()
    )
    if not external_id:
        raise PayloadRejected(missing)
    return external_id


def inbound_metadata(channel, external_id: str) -> dict:
    """The metadata stored with this channel's message `external_id` ({} when there is none)."""
    from apps.conversations.models import Message

    if not external_id:
        return {}
    metadata = (
        Message.objects.filter(channel=channel, external_id=external_id)
        .values_list("metadata", flat=True)
        .first()
    )
    return metadata if isinstance(metadata, dict) else {}
