"""Polling: fetching what is new on a channel through its connector, and storing it as raw payloads.

The connector fetches (apps/connectors: bytes in, no database); this module holds the channel's poll state
(cursor, back-off, failing) and hands the items to the pipeline (services.payload_receive_many). A channel
that starts or stops failing sends hooks.channel_failing / channel_recovered (notifications tells admins).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.connectors.base import PayloadRejected, RateLimited, TransientError
from apps.connectors.models import Channel
from apps.connectors.registry import all_connectors, connector_for

from .hooks import channel_failing, channel_recovered
from .models import RawPayload
from .services import payload_receive_many

logger = logging.getLogger(__name__)


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


def channel_poll_failed(
    *, channel_id: int, reason: str, retry_after: float | None = None, fatal=False
) -> None:
    """A poll failed: the next one waits longer each time (or the platform's Retry-After); from the
    POLL_FAILING_AFTER-th failure in a row the channel is failing, and its organisation's admins are told
    once. `fatal` (refused for good: bad credentials...) puts it in error until someone fixes it."""
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
            channel_failing.send(channel)


def channel_poll(*, channel_id: int) -> int:
    """Fetch what is new on a polling channel and store it as raw payloads; returns how many were new.

    RateLimited and TransientError propagate (the task retries them after the platform's delay);
    PayloadRejected (bad credentials, a query the platform refuses) puts the channel in error.
    """
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
            # A connector that paused itself (a quota spent) says why, and when it polls again.
            last_error=result.paused[:2000],
            error_count=0,
            failing_since=None,
            next_poll_at=timezone.now() + timedelta(seconds=result.resume_after)
            if result.paused and result.resume_after
            else None,
        )
        if channel.failing_since is not None:
            logger.info("channel recovered", extra={"channel": channel.pk})
            channel_recovered.send(channel)
    return new
