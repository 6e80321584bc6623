"""Live events about messages for the open inboxes and conversation pages, fed by the domain's hooks
(apps.conversations.hooks: connected in InboxConfig.ready())."""

from __future__ import annotations

from apps.conversations.models import Conversation, Message

from .consumers import conversation_group, inbox_send, live_send


def push_message_events(event: str, messages: list[Message]) -> None:
    """Tell the open inboxes about messages: one event per brand and batch (a group send costs a round
    trip to Redis; one per message would cap ingestion's rate), so that each socket gets only its brands'."""
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
        for conversation_id in {message.conversation_id for message in messages}:
            live_send(
                conversation_group(conversation_id),
                "conversation.event",
                {
                    "event": "message.updated",
                    "messages": [m.pk for m in messages if m.conversation_id == conversation_id],
                },
            )


def push_conversations_changed(conversations) -> None:
    """Tell the open inboxes that these conversations changed: one event per brand, so that an agent
    limited to some brands hears only of theirs (InboxConsumer)."""
    by_brand: dict[tuple[int, int], list[int]] = {}
    for conversation in conversations:
        by_brand.setdefault((conversation.organization_id, conversation.brand_id), []).append(conversation.pk)
    # Each conversation's version as committed (the hook is sent on commit): an open page that already
    # shows it (its own agent's action) has nothing to fetch again.
    every = [pk for ids in by_brand.values() for pk in ids]
    versions = dict(Conversation.objects.filter(pk__in=every).values_list("pk", "version"))
    for (organization_id, brand_id), ids in by_brand.items():
        payload = {
            "event": "conversation.updated",
            "conversations": ids,
            "versions": {str(pk): versions[pk] for pk in ids if pk in versions},
        }
        inbox_send(organization_id, brand_id, payload)


def push_stored(messages: list[Message]) -> None:
    push_message_events("message.created", messages)
