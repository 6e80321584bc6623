"""Channel set-up and state changes: creating and configuring from the connector's declaration,
registering its webhook, pausing and resuming, testing the connection.

Polling lives in apps/ingestion/polling.py, delivering replies in apps/replies/delivery.py."""

from __future__ import annotations

import logging

from apps.core.audit import audit_record

from .base import PayloadRejected, TransientError
from .models import Channel
from .registry import connector_for

logger = logging.getLogger(__name__)


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


def _apply_settings(channel: Channel, values: dict) -> list[str]:
    """Write {Setting: value} into the channel's settings and credentials (None removes one); returns the
    keys changed. Settings absent from `values` (a secret kept, one the connector does not declare) stay."""
    settings, credentials = dict(channel.settings or {}), dict(channel.credentials or {})
    changed = []
    for setting, value in values.items():
        if setting.read(channel) == value:
            continue
        setting.write(credentials if setting.stored_in_credentials else settings, value)
        changed.append(setting.key)
    channel.settings, channel.credentials = settings, credentials
    return changed


def channel_create(*, brand, kind: str, name: str, values: dict, actor) -> Channel:
    """A new channel of `kind` for `brand`, set up with {Setting: value} (connector.setup_fields)."""
    channel = Channel(organization=brand.organization, brand=brand, kind=kind, name=name)
    changed = _apply_settings(channel, values)
    channel.full_clean(exclude=["credentials", "settings", "cursor"])
    channel.save()
    audit_record(
        organization=channel.organization,
        actor=actor,
        action="channel.create",
        target=channel,
        data={"kind": kind, "brand": brand.pk, "settings": sorted(changed)},
    )
    return channel


def channel_configure(*, channel: Channel, name: str, values: dict, actor) -> list[str]:
    """Change a channel's name and settings; the audit row names what changed, never a secret's value.
    A channel refused for good (bad credentials) is active again once its settings change: its next poll
    tries them."""
    changed = _apply_settings(channel, values)
    if name != channel.name:
        channel.name = name
        changed.append("name")
    if not changed:
        return []
    fields = ["name", "settings", "credentials"]
    if channel.status == Channel.Status.ERROR:
        channel.status, channel.error_count, channel.failing_since = Channel.Status.ACTIVE, 0, None
        channel.next_poll_at = None
        fields += ["status", "error_count", "failing_since", "next_poll_at"]
    channel.save(update_fields=fields)
    audit_record(
        organization=channel.organization,
        actor=actor,
        action="channel.configure",
        target=channel,
        data={"changed": sorted(changed)},
    )
    return changed


def channel_register_webhook(*, channel: Channel, url: str, actor) -> tuple[bool, str]:
    """Ask the platform to deliver to the channel's webhook URL (Telegram's setWebhook): (ok, detail)."""
    try:
        ok, detail = True, connector_for(channel.kind).register_webhook(channel, url)
    except (TransientError, PayloadRejected) as error:
        ok, detail = False, error.reason
    audit_record(
        organization=channel.organization,
        actor=actor,
        action="channel.webhook_register",
        target=channel,
        data={"ok": ok, "detail": detail[:500]},
    )
    return ok, detail


def channel_test(*, channel: Channel, actor=None) -> tuple[bool, str]:
    """Try the channel's connection with the connector's own check, without storing anything or moving
    its cursor: (ok, what happened). Destinations go through apps.core.outbound's guard."""
    from apps.core.outbound import DestinationRefused

    try:
        ok, detail = True, connector_for(channel.kind).check(channel)
    except (TransientError, PayloadRejected) as error:
        ok, detail = False, error.reason
    except DestinationRefused as error:
        ok, detail = False, str(error)
    except Exception as error:  # a connector's bug or an answer it did not expect: said, not a 500
        logger.warning("channel test failed", extra={"channel": channel.pk}, exc_info=True)
        ok, detail = False, f"{type(error).__name__}: {error}"
    if actor is not None:
        audit_record(
            organization=channel.organization,
            actor=actor,
            action="channel.test",
            target=channel,
            data={"ok": ok, "detail": detail[:500]},
        )
    return ok, detail
