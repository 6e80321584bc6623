"""Channel state changes: pausing and resuming, testing the connection.

Polling lives in apps/ingestion/polling.py, delivering replies in apps/replies/delivery.py."""

from __future__ import annotations

from apps.core.audit import audit_record

from .base import PayloadRejected, RateLimited, TransientError
from .models import Channel
from .registry import connector_for


def channel_set_status(*, channel: Channel, status: str, actor) -> Channel:
    channel.status = status
    channel.save(update_fields=["status"])
    audit_record(
        organization=channel.organization,
        actor=actor,
        action="channel.status",
        target=channel,
        data={"status": status},
    )
    return channel


def channel_test(*, channel: Channel) -> tuple[bool, str]:
    """Try the channel's connection without storing anything or moving its cursor: (ok, what happened)."""
    connector = connector_for(channel.kind)
    if connector.polls:
        try:
            result = connector.fetch(channel)
        except (RateLimited, TransientError, PayloadRejected) as error:
            return False, error.reason
        except NotImplementedError:
            return False, f"no connector can fetch {channel.get_kind_display()} yet"
        return True, f"connected: {len(result.items)} new item(s) waiting (nothing was stored)"
    if connector.receives_webhooks:
        try:
            connector.verify_webhook(channel, {}, b"")
        except Exception as error:  # an unsigned request must be refused; how tells us the set-up state
            reason = getattr(error, "reason", str(error))
            if "configured" in reason or getattr(error, "status", 0) == 503:
                return False, reason
            return True, f"webhook ready: unsigned requests are refused ({reason})"
        return False, "the webhook accepted an unsigned request: check the channel's secret"
    return False, f"no connector for {channel.get_kind_display()} yet"
