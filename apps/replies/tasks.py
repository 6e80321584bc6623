"""Celery tasks of replies: thin wrappers around services."""

from __future__ import annotations

from celery import shared_task

from apps.classification.encoders import EncoderUnavailable

from . import services


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
