"""Live events: the Channels groups the open pages listen on, and sending to them.

Every layer may tell the open pages that something changed once it is committed (accounts: a member's role
changed; conversations: a note was added; notifications: a new one), so the transport and the group names
live here, at the bottom; the consumers that listen on these groups are the inbox's (apps/inbox/consumers.py).
"""

import logging

logger = logging.getLogger(__name__)


def live_send(group: str, message_type: str, payload: dict) -> None:
    """Send a live event to a Channels group. Best effort: whatever changed is committed already, and the
    pages catch up on their next load, so a broker hiccup is logged, never raised."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": message_type, "payload": payload})
    except Exception:
        logger.warning("live event not sent", exc_info=True, extra={"group": group})


def organization_group(organization_id: int) -> str:
    return f"org-{organization_id}-inbox"


def user_group(organization_id: int, user_id: int) -> str:
    """One user's own events (their notifications) in one organisation."""
    return f"org-{organization_id}-user-{user_id}"


def conversation_group(conversation_id: int) -> str:
    """The pages open on one conversation."""
    return f"conversation-{conversation_id}"
