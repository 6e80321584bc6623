"""What classification tells the apps above it (apps/core/hooks.py)."""

from apps.core.hooks import Hook

labels_changed = Hook(
    "classification.labels_changed",
    """The classifier or an agent's correction changed these messages' labels, not their text, committed:
    `send(message_ids)` (search: a backend whose documents copy the labels indexes them again).""",
)
