"""The steps every ingested message goes through after it is stored, in order.

Steps in BEFORE_INSERT fill in the new messages before their rows are written (language), so that the
insert writes them once. Routing (the first-response deadline, `sla_deadline`) is written with each
conversation's counters by ingest. Steps in STEPS run inside the payload's transaction once the messages
are stored (they may write): listening queries. `after_commit` runs once the messages are visible to
everyone: classification (its own tasks), live events, search indexing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings

from apps.analytics.services import rollups_refresh_soon
from apps.connectors.kinds import PRIVATE_KINDS
from apps.conversations.models import Message
from apps.webhooks import events as webhook_events

logger = logging.getLogger(__name__)

# First-response targets until SLA policies are configurable per brand.
SLA_PRIVATE = timedelta(hours=4)
SLA_PUBLIC = timedelta(hours=24)


def detect_language(messages: list[Message]) -> None:
    """The language of messages that came without one: listening's lang: filters read it, and search
    indexes the text in it. The messages are not inserted yet: their insert writes it."""
    from apps.classification.services import messages_detect_language

    messages_detect_language(messages, save=False)


def apply_listening(messages: list[Message]) -> None:
    """Tags messages to / about a brand, a competitor or the category (listening queries)."""
    from apps.listening.services import messages_apply_listening

    messages_apply_listening(messages)


def sla_deadline(message: Message) -> datetime:
    """Routing: when the brand's first response to an inbound message is due. Ingestion starts the
    conversation's clock with it, in the statement that writes the conversation's counters."""
    target = SLA_PRIVATE if message.channel.kind in PRIVATE_KINDS else SLA_PUBLIC
    return message.sent_at + target


# Each step takes the list of new messages: a batch costs a few statements, not a few per message.
BEFORE_INSERT = [detect_language]
STEPS = [apply_listening]


def push_message_events(event: str, messages: list[Message]) -> None:
    """Tell the open inboxes about messages: one event per brand and batch (a group send costs a round
    trip to Redis; one per message would cap ingestion's rate), so that each socket gets only its brands'."""
    from apps.inbox.consumers import inbox_send

    by_brand: dict[tuple[int, int], list[dict]] = {}
    for message in messages:
        key = (message.organization_id, message.conversation.brand_id)
        by_brand.setdefault(key, []).append(
            {
                "message": message.pk,
                "conversation": message.conversation_id,
                "brand": message.conversation.brand_id,
                "delivery": message.delivery_status,
            }
        )
    for (organization_id, brand_id), items in by_brand.items():
        inbox_send(organization_id, brand_id, {"event": event, "messages": items})
    if event == "message.updated":
        # The open conversation pages show edits, deletions and reactions at once. Their sockets joined the
        # conversation's group only once the viewer was found allowed to see it (ConversationConsumer).
        from apps.inbox.consumers import conversation_group, live_send

        for conversation_id in {message.conversation_id for message in messages}:
            live_send(
                conversation_group(conversation_id),
                "conversation.event",
                {
                    "event": "message.updated",
                    "messages": [m.pk for m in messages if m.conversation_id == conversation_id],
                },
            )


def index_for_search(messages: list[Message]) -> None:
    """Search indexing, in a task: Elasticsearch gets the documents in bulk; PostgreSQL indexes the text by
    itself, and the task adds the messages' words to the lexicon that typo matching uses."""
    from apps.search.services import messages_index_later

    messages_index_later([m.pk for m in messages])


def enqueue_classification(messages: list[Message]) -> None:
    """Sentiment, intent, relevance, priority: the models run in tasks of their own once the messages
    are committed, so a slow or broken model never holds up ingestion. Until then a message waits with
    classified_at empty, and the beat's classify-waiting sweep comes back to it."""
    from apps.classification.services import messages_classify_later

    if not settings.CLASSIFY_ON_ARRIVAL:
        return
    messages_classify_later([m.pk for m in messages if m.direction == Message.Direction.INBOUND])


def after_commit(messages: list[Message], delivered: list[Message] = (), updated: list[Message] = ()) -> None:
    enqueue_classification(messages)
    push_message_events("message.created", messages)
    index_for_search(messages)
    webhook_events.messages_created(messages)  # only where an endpoint listens (a cached check)
    push_message_events("message.delivery", list(delivered))
    push_message_events("message.updated", list(updated))  # edits, deletions, reactions
    rollups_refresh_soon()
