"""The pipeline's steps, for the apps above ingestion to plug into (apps/core/hooks.py).

`payload → connector parses → messages built → before_insert → rows written (messages, conversations'
counters) → in_transaction → commit → apps.conversations.hooks.messages_stored / messages_changed`.

before_insert and in_transaction run inside the payload's transaction, on the list of new messages of a
batch (a batch costs a few statements, never a few per message); channel_failing and channel_recovered
tell of a polling channel's health (polling.py).
"""

from apps.core.hooks import Hook

before_insert = Hook(
    "ingestion.before_insert",
    """`send(messages)`: fill in the new messages before their rows are written, so that the insert writes
    them once (classification: the language of messages that came without one).""",
)

in_transaction = Hook(
    "ingestion.in_transaction",
    """`send(messages)`: the messages are written, inside the payload's transaction; receivers may write
    rows that must commit or roll back with them (listening: mentions of brands and competitors).""",
)

conversations_opened = Hook(
    "ingestion.conversations_opened",
    """`send(conversations)`: the conversations a batch opened, inside the payload's transaction, right after
    their rows are written (webhooks: "conversation.created").""",
)

channel_failing = Hook(
    "ingestion.channel_failing",
    """A polling channel just became failing (polling.channel_poll_failed: too many failures in a row, or
    refused for good), inside the transaction that records it: `send(channel)`. Sent once, until it
    recovers (notifications: its admins are told).""",
)

channel_recovered = Hook(
    "ingestion.channel_recovered",
    """A failing channel polled successfully again, inside the transaction that records it:
    `send(channel)`.""",
)
