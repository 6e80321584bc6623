"""Thin tasks: polling on a schedule, and delivering outbound messages, with retries and back-off."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services
from .base import RateLimited, TransientError

logger = logging.getLogger(__name__)


@shared_task(name="apps.connectors.tasks.poll_due_channels_task", ignore_result=True)
def poll_due_channels_task() -> int:
    channel_ids = services.channels_claim_for_poll()
    for channel_id in channel_ids:
        poll_channel_task.delay(channel_id)
    return len(channel_ids)


@shared_task(name="apps.connectors.tasks.poll_channel_task", acks_late=True, ignore_result=True)
def poll_channel_task(channel_id: int) -> None:
    """One poll. A failure is recorded on the channel with its back-off (services.channel_poll_failed):
    beat's poll-due-channels sends the next poll when it is due, so a channel has one poll chain, never a
    retry chain beside it. A database error leaves the channel held until its lease ends."""
    try:
        services.channel_poll(channel_id=channel_id)
    except (RateLimited, TransientError) as error:
        logger.info("poll failed", extra={"channel": channel_id, "reason": error.reason[:300]})
    except (OperationalError, InterfaceError):
        logger.warning("poll failed on the database", exc_info=True, extra={"channel": channel_id})


@shared_task(
    bind=True,
    name="apps.connectors.tasks.send_message_task",
    acks_late=True,
    max_retries=8,
    ignore_result=True,
)
def send_message_task(self, message_id: int) -> None:
    try:
        services.message_deliver(message_id=message_id)
    except (RateLimited, TransientError, OperationalError, InterfaceError) as error:
        if self.request.retries >= self.max_retries:
            services.message_delivery_failed(
                message_id=message_id, reason=f"gave up after {self.max_retries} retries: {error}"
            )
            return
        delay = getattr(error, "retry_after", None) or min(600, 10 * 2**self.request.retries)
        raise self.retry(countdown=delay, exc=error) from error


@shared_task(name="apps.connectors.tasks.send_scheduled_messages_task", ignore_result=True)
def send_scheduled_messages_task() -> int:
    message_ids = services.scheduled_messages_due()
    for message_id in message_ids:
        send_message_task.delay(message_id)
    return len(message_ids)
