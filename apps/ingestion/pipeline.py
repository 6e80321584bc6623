"""The steps every ingested message goes through after it is stored, in order.

Steps in STEPS run inside the payload's transaction (they may write); `after_commit` runs once the
messages are visible to everyone (live events, search indexing). Listening queries and classification
plug in here as they are built.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from apps.connectors.kinds import PRIVATE_KINDS
from apps.conversations.models import Conversation, Message

logger = logging.getLogger(__name__)

# First-response targets until SLA policies are configurable per brand.
SLA_PRIVATE = timedelta(hours=4)
SLA_PUBLIC = timedelta(hours=24)


def apply_listening(message: Message) -> None:
    """Tags the message to / about the brand, a competitor or the category (listening queries)."""
    from apps.listening.services import message_apply_listening

    message_apply_listening(message)


def classify(message: Message) -> None:
    """Language, sentiment, intent, relevance, priority: the classification models plug in here."""


def route(message: Message) -> None:
    """Start the SLA clock of a conversation waiting for the brand."""
    if message.direction != Message.Direction.INBOUND:
        return
    conversation = message.conversation
    if conversation.sla_due_at is None or conversation.first_response_at is not None:
        target = SLA_PRIVATE if message.channel.kind in PRIVATE_KINDS else SLA_PUBLIC
        Conversation.objects.filter(pk=conversation.pk, sla_due_at__isnull=True).update(
            sla_due_at=message.sent_at + target
        )


STEPS = [apply_listening, classify, route]


def push_live_events(messages: list[Message]) -> None:
    """Tell the open inboxes of each organisation about new messages (Channels group per organisation)."""
    from apps.inbox.consumers import organization_group

    layer = get_channel_layer()
    if layer is None or not messages:
        return
    for message in messages:
        try:
            async_to_sync(layer.group_send)(
                organization_group(message.organization_id),
                {
                    "type": "inbox.event",
                    "payload": {
                        "event": "message.created",
                        "message": message.pk,
                        "conversation": message.conversation_id,
                        "brand": message.conversation.brand_id,
                    },
                },
            )
        except Exception:  # live updates are best-effort: the message is stored whatever happens here
            logger.warning("live event not sent", exc_info=True, extra={"message_id": message.pk})


def index_for_search(messages: list[Message]) -> None:
    """Search indexing (PostgreSQL full-text is built in; Elasticsearch plugs in here)."""


def after_commit(messages: list[Message]) -> None:
    push_live_events(messages)
    index_for_search(messages)
