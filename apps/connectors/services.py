"""Channel state changes: polling a platform, delivering an outbound message, pausing and resuming."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.audit import audit_record
from apps.webhooks import events as webhook_events

from .base import PayloadRejected, RateLimited, TransientError
from .models import Channel
from .registry import all_connectors, connector_for

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


# Polls that fail this many times in a row make the channel failing (its admins are told); each failure
# puts the next poll off twice as long as the one before, from settings.CHANNEL_POLL_RETRY_SECONDS up to
# POLL_BACKOFF_MAX_SECONDS. A poll under way holds the channel this long at most (a lost task lets go).
POLL_FAILING_AFTER = 3
POLL_BACKOFF_MAX_SECONDS = 3600
POLL_LEASE_SECONDS = 600


def channels_due_for_poll():
    """Active channels of polling kinds whose interval has passed, and whose back-off (or poll under way)
    does not hold them."""
    now = timezone.now()
    due = Q()
    for kind, connector in all_connectors().items():
        if connector.polls:
            due |= Q(kind=kind) & (
                Q(last_fetch_at__isnull=True)
                | Q(last_fetch_at__lt=now - timedelta(seconds=connector.poll_interval_seconds))
            )
    if not due:
        return Channel.objects.none()
    return Channel.objects.filter(due, status=Channel.Status.ACTIVE).filter(
        Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now)
    )


def channels_claim_for_poll() -> list[int]:
    """The channels due for a poll, each held for the poll about to be sent (one poll chain a channel: beat
    never sends a second while one is under way or backing off)."""
    now = timezone.now()
    with transaction.atomic():
        channel_ids = list(
            channels_due_for_poll().select_for_update(skip_locked=True).values_list("pk", flat=True)
        )
        Channel.objects.filter(pk__in=channel_ids).update(
            next_poll_at=now + timedelta(seconds=POLL_LEASE_SECONDS)
        )
    return channel_ids


def _admins(channel: Channel) -> list:
    from apps.accounts.models import Membership, Role

    memberships = Membership.objects.filter(organization_id=channel.organization_id, role=Role.ADMIN).filter(
        Q(brands__isnull=True) | Q(brands=channel.brand_id)
    )
    return [membership.user for membership in memberships.select_related("user").distinct()]


def _notify_admins(channel: Channel, kind: str) -> None:
    from apps.notifications.services import notifications_send

    notifications_send(recipients=_admins(channel), kind=kind, channel=channel, actor=None)


def channel_poll_failed(
    *, channel_id: int, reason: str, retry_after: float | None = None, fatal=False
) -> None:
    """A poll failed: the next one waits longer each time (or the platform's Retry-After); from the
    POLL_FAILING_AFTER-th failure in a row the channel is failing, and its organisation's admins are told
    once. `fatal` (refused for good: bad credentials...) puts it in error until someone fixes it."""
    from apps.notifications.models import Notification

    with transaction.atomic():
        channel = Channel.objects.select_for_update().get(pk=channel_id)
        channel.error_count += 1
        channel.last_error = reason[:2000]
        delay = settings.CHANNEL_POLL_RETRY_SECONDS * 2 ** (channel.error_count - 1)
        delay = min(max(delay, retry_after or 0), POLL_BACKOFF_MAX_SECONDS)
        channel.next_poll_at = timezone.now() + timedelta(seconds=delay)
        if fatal:
            channel.status = Channel.Status.ERROR
        newly_failing = channel.failing_since is None and (fatal or channel.error_count >= POLL_FAILING_AFTER)
        if newly_failing:
            channel.failing_since = timezone.now()
        channel.save(update_fields=["error_count", "last_error", "next_poll_at", "status", "failing_since"])
        if newly_failing:
            logger.warning("channel failing", extra={"channel": channel.pk, "reason": reason[:300]})
            _notify_admins(channel, Notification.Kind.CHANNEL_FAILING)


def channel_poll(*, channel_id: int) -> int:
    """Fetch what is new on a polling channel and store it as raw payloads; returns how many were new.

    RateLimited and TransientError propagate (the task retries them after the platform's delay);
    PayloadRejected (bad credentials, a query the platform refuses) puts the channel in error.
    """
    from apps.ingestion.models import RawPayload
    from apps.ingestion.services import payload_receive_many
    from apps.notifications.models import Notification

    channel = Channel.objects.select_related("brand", "organization").get(pk=channel_id)
    if channel.status != Channel.Status.ACTIVE:
        return 0
    connector = connector_for(channel.kind)
    try:
        result = connector.fetch(channel)
    except (RateLimited, TransientError) as error:
        channel_poll_failed(channel_id=channel.pk, reason=error.reason, retry_after=error.retry_after)
        raise
    except PayloadRejected as error:
        channel_poll_failed(channel_id=channel.pk, reason=error.reason, fatal=True)
        return 0
    except Exception as error:  # a connector's bug, an answer it did not expect: the channel says why
        channel_poll_failed(channel_id=channel.pk, reason=f"{type(error).__name__}: {error}")
        raise
    with transaction.atomic():
        new = 0
        for content_type in {item.content_type for item in result.items}:
            items = [
                (item.external_id, item.body) for item in result.items if item.content_type == content_type
            ]
            new += len(
                payload_receive_many(
                    channel=channel, source=RawPayload.Source.POLL, items=items, content_type=content_type
                )
            )
        Channel.objects.filter(pk=channel.pk).update(
            cursor=result.cursor,
            last_fetch_at=timezone.now(),
            last_error="",
            error_count=0,
            failing_since=None,
            next_poll_at=None,
        )
        if channel.failing_since is not None:
            logger.info("channel recovered", extra={"channel": channel.pk})
            _notify_admins(channel, Notification.Kind.CHANNEL_RECOVERED)
    return new


def message_deliver(*, message_id: int) -> None:
    """Send one queued outbound message through its channel's connector.

    TransientError / RateLimited propagate so that the task retries; anything the platform refuses for good
    marks the message failed with the reason, visible on the conversation.
    """
    from apps.conversations.models import Message

    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("channel__brand", "conversation")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.delivery_status not in (
            Message.Delivery.QUEUED,
            Message.Delivery.SCHEDULED,
        ):
            return
        reply_to = (
            Message.objects.filter(conversation=message.conversation, direction=Message.Direction.INBOUND)
            .exclude(external_id=None)
            .order_by("-sent_at")
            .values_list("external_id", flat=True)
            .first()
            or ""
        )
        try:
            external_id = connector_for(message.channel.kind).send(
                message.channel, message, reply_to=reply_to
            )
        except PayloadRejected as error:
            message.delivery_status = Message.Delivery.FAILED
            message.delivery_error = error.reason[:2000]
            message.save(update_fields=["delivery_status", "delivery_error"])
            _announce_delivery([message])
            return
        message.external_id = external_id or message.external_id
        message.delivery_status = Message.Delivery.SENT
        message.delivery_error = ""
        message.sent_at = timezone.now()
        message.save(update_fields=["external_id", "delivery_status", "delivery_error", "sent_at"])
        _announce_delivery([message])
        webhook_events.reply_sent(message)


def _announce_delivery(messages) -> None:
    """The open inboxes see the reply's new status (sent, failed with its reason) once it is committed."""
    from apps.ingestion.pipeline import push_message_events

    transaction.on_commit(lambda: push_message_events("message.delivery", messages))


def message_delivery_failed(*, message_id: int, reason: str) -> None:
    from apps.conversations.models import Message

    failed = Message.objects.filter(
        pk=message_id, delivery_status__in=[Message.Delivery.QUEUED, Message.Delivery.SCHEDULED]
    ).update(delivery_status=Message.Delivery.FAILED, delivery_error=reason[:2000])
    if failed:
        _announce_delivery(list(Message.objects.select_related("conversation").filter(pk=message_id)))


def scheduled_messages_due() -> list[int]:
    from apps.conversations.models import Message

    return list(
        Message.objects.filter(delivery_status=Message.Delivery.SCHEDULED, sent_at__lte=timezone.now())
        .order_by("sent_at")
        .values_list("pk", flat=True)[:1000]
    )
