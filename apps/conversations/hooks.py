"""What happens to messages and conversations, for the apps that react to it (apps/core/hooks.py).

These hooks live in the domain layer so that every layer above it may send them: ingestion when it stores
payloads' messages, replies when an agent answers, the connectors' delivery reports, classification once
the models ran, the conversation services when an agent acts. Receivers are connected in their apps'
`AppConfig.ready()`. The first four are sent once the change is committed (from `transaction.on_commit`
where the sender works in a transaction), so receivers see the rows. The agents' actions below them
(status_set, note_added, assigned, unsnoozed, marked_spam) are sent inside the action's transaction, where
the conversation services used to call the apps above by name: what receivers write commits or rolls back
with the action.
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

messages_text_changed = Hook(
    "messages.text_changed",
    """Text was added to stored messages after they were stored, committed: `send(messages)`, a list of
    Message, e.g. the text read in their images (apps.ocr, `Message.image_text`). Listening tags them
    again, the classifier classifies them again and search indexes them again.""",
)

status_set = Hook(
    "conversations.status_set",
    """A conversation's status was set (conversation_set_status: an agent, or CXM with actor None), inside
    the transaction: `send(conversation=..., actor=..., previous=...)`, previous being the status it had
    before (the same when it was set again). Replies records what resolved a closed one; webhooks announce
    the change; automation (on commit, when the status really changed) runs its status rules and sends the
    satisfaction survey of a resolution.""",
)

priority_set = Hook(
    "conversations.priority_set",
    """A conversation's priority was set by hand, a macro or an automation rule (conversation_set_priority),
    inside the transaction: `send(conversation=..., actor=..., previous=...)`. Routing applies the SLA
    policy of the new priority level (its deadlines), under the same version as the priority.""",
)

note_added = Hook(
    "conversations.note_added",
    """An internal note was added (note_add), inside the transaction: `send(conversation=..., note=...,
    author=..., mentioned=[users])`, mentioned being the members its @names point at who may work on the
    conversation. Notifications tells them; webhooks announce the note.""",
)

assigned = Hook(
    "conversations.assigned",
    """A conversation was given to a member (conversation_assign_to), inside the transaction:
    `send(conversation=..., assignee=..., actor=...)`, assignee None when it was unassigned. Notifications
    tells the assignee.""",
)

unsnoozed = Hook(
    "conversations.unsnoozed",
    """A snoozed conversation's time came and it is open again (conversations_unsnooze_due, beat), inside the
    transaction: `send(conversation=...)`, its assignee loaded. Notifications tells the assignee.""",
)

marked_spam = Hook(
    "conversations.marked_spam",
    """Conversations were closed and tagged spam (conversations_mark_spam), inside the transaction, before
    the inboxes hear of it: `send(conversations=[...], actor=...)`. Classification corrects the latest
    inbound message of each to the "spam" intent where the organisation has it, so that its model learns,
    and refreshes the conversations' labels.""",
)
