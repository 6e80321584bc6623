"""Celery tasks of replies: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from apps.classification.encoders import EncoderUnavailable
from apps.connectors.base import RateLimited, TransientError

from . import delivery, services


@shared_task(
    name="apps.replies.tasks.resolution_example_record_task",
    acks_late=True,
    max_retries=5,
    autoretry_for=(EncoderUnavailable,),
    retry_backoff=30,
    retry_backoff_max=600,
    soft_time_limit=120,
    time_limit=180,
    ignore_result=True,
)
def resolution_example_record_task(conversation_id: int) -> None:
    """Record what resolved a conversation just closed; nothing when it has no reply or was reopened."""
    services.resolution_examples_record(conversation_ids=[conversation_id])


@shared_task(
    name="apps.replies.tasks.resolution_examples_record_task",
    acks_late=True,
    max_retries=5,
    autoretry_for=(EncoderUnavailable,),
    retry_backoff=30,
    ignore_result=True,
)
def resolution_examples_record_task(conversation_ids: list[int]) -> int:
    """Record many closed conversations at once (the demo, imports): one encoder batch."""
    return services.resolution_examples_record(conversation_ids=conversation_ids)


@shared_task(
    bind=True,
    name="apps.replies.tasks.send_message_task",
    acks_late=True,
    max_retries=8,
    ignore_result=True,
)
def send_message_task(self, message_id: int) -> None:
    try:
        delivery.message_deliver(message_id=message_id)
    except (RateLimited, TransientError, OperationalError, InterfaceError) as error:
        if self.request.retries >= self.max_retries:
            delivery.message_delivery_failed(
                message_id=message_id, reason=f"gave up after {self.max_retries} retries: {error}"
            )
            return
        delay = getattr(error, "retry_after", None) or min(600, 10 * 2**self.request.retries)
        raise self.retry(countdown=delay, exc=error) from error


@shared_task(name="apps.replies.tasks.send_scheduled_messages_task", ignore_result=True)
def send_scheduled_messages_task() -> int:
    message_ids = delivery.scheduled_messages_due()
    for message_id in message_ids:
        send_message_task.delay(message_id)
    return len(message_ids)
