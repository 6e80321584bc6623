"""What happens to messages and conversations, for the apps that react to it (apps/core/hooks.py).

These hooks live in the domain layer so that every layer above it may send them: ingestion when it stores
payloads' messages, replies when an agent answers, the connectors' delivery reports, classification once
the models ran, the conversation services when an agent acts. Receivers are connected in their apps'
`AppConfig.ready()`; each is sent once the change is committed (from `transaction.on_commit` where the
sender works in a transaction), so receivers see the rows.
"""

from apps.core.hooks import Hook

messages_stored = Hook(
    "messages.stored",
    """New messages stored by ingestion, committed: `send(messages)`, a list of Message (inbound, and outbound
    ones read back from a channel), with their conversations and channels loaded. Classification queues
    them, the open inboxes hear of them, search indexes them, webhooks and rollups follow.""",
)

messages_changed = Hook(
    "messages.changed",
    """Something the open screens show changed on messages, committed: `send(event, messages)` where event
    is "message.created" (an agent's reply), "message.delivery" (its delivery status), "message.updated"
    (an edit, deletion or reaction read from the channel) or "message.classified" (labels written).""",
)

conversations_changed = Hook(
    "conversations.changed",
    """Conversations whose status, assignee, tags, priority or snooze changed, committed:
    `send(conversations)`, a list of Conversation.""",
)

status_changed = Hook(
    "conversations.status_changed",
    """A conversation's status changed, committed: `send(conversation, previous, actor)` with the status it
    had before (`actor` None when CXM changed it: a rule, the unsnooze sweep). Automation runs its
    status rules and sends the satisfaction survey of a resolution.""",
)
