"""Thin Celery tasks around the ingestion services: ids in, services do the work."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from apps.connectors.base import RateLimited, TransientError

from . import polling, services

logger = logging.getLogger(__name__)

# Errors of our own infrastructure (database restarting, connection lost): try again, with back-off.
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(
    bind=True,
    name="apps.ingestion.tasks.process_payload_task",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=12,
    ignore_result=True,
)
def process_payload_task(self, payload_id: int) -> None:
    """One payload, with the others waiting beside it; should that set break, the payload alone (the one at
    fault may be another, which its own task then rejects)."""
    try:
        services.payload_process_with_waiting(payload_id=payload_id)
        return
    except TRANSIENT:
        if self.request.retries < self.max_retries:
            raise
    except Exception:
        logger.warning("payloads taken together failed; processing this one alone", exc_info=True)
    _process_alone(self, payload_id)


def _process_alone(task, payload_id: int) -> None:
    """Process one payload in its own transaction; an unexpected error rejects it (or splits an import
    chunk), and a database error is retried by the task until its retries run out."""
    try:
        services.payload_process(payload_id=payload_id)
    except TRANSIENT:
        if task.request.retries >= task.max_retries:
            services.payload_fail(payload_id=payload_id, reason="the database stayed unavailable")
            return
        raise
    except Exception as error:  # a bug must not lose the payload: it is kept, rejected with the reason
        logger.exception("payload processing failed", extra={"payload": payload_id})
        services.payload_broken(payload_id=payload_id, reason=f"{type(error).__name__}: {error}")


_BATCH_OPTIONS = dict(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=12,
    ignore_result=True,
)


@shared_task(name="apps.ingestion.tasks.process_payload_batch_task", **_BATCH_OPTIONS)
def process_payload_batch_task(self, payload_ids: list[int]) -> None:
    """Many payloads in one task and one transaction; should anything unexpected break the batch, each
    payload is then processed on its own, so that one bad payload cannot hold back the others."""
    _process_batch(self, payload_ids)


@shared_task(name="apps.ingestion.tasks.process_import_chunk_task", **_BATCH_OPTIONS)
def process_import_chunk_task(self, payload_ids: list[int]) -> None:
    """The same for an import's chunks, on the bulk queue (settings.CELERY_TASK_ROUTES): a file of a
    million rows must not hold back the messages that arrive live meanwhile."""
    _process_batch(self, payload_ids)


def _process_batch(task, payload_ids: list[int]) -> None:
    try:
        services.payloads_process(payload_ids=payload_ids)
        return
    except TRANSIENT:
        if task.request.retries < task.max_retries:
            raise
    except Exception:
        logger.warning("batch failed; processing its payloads one by one", exc_info=True)
    for payload_id in payload_ids:  # one bad payload must not hold back the others
        _process_alone(task, payload_id)


@shared_task(name="apps.ingestion.tasks.requeue_stuck_payloads_task", ignore_result=True)
def requeue_stuck_payloads_task() -> int:
    return services.payloads_requeue_stuck()


@shared_task(
    name="apps.ingestion.tasks.import_job_task",
    acks_late=True,
    ignore_result=True,
    time_limit=3 * 3600,
    soft_time_limit=3 * 3600 - 60,
)
def import_job_task(job_id: int) -> None:
    from .imports import import_job_run

    import_job_run(job_id=job_id)


@shared_task(name="apps.ingestion.tasks.poll_due_channels_task", ignore_result=True)
def poll_due_channels_task() -> int:
    channel_ids = polling.channels_claim_for_poll()
    for channel_id in channel_ids:
        poll_channel_task.delay(channel_id)
    return len(channel_ids)


@shared_task(name="apps.ingestion.tasks.poll_channel_task", acks_late=True, ignore_result=True)
def poll_channel_task(channel_id: int) -> None:
    """One poll. A failure is recorded on the channel with its back-off (polling.channel_poll_failed):
    beat's poll-due-channels sends the next poll when it is due, so a channel has one poll chain, never a
    retry chain beside it. A database error leaves the channel held until its lease ends."""
    try:
        polling.channel_poll(channel_id=channel_id)
    except (RateLimited, TransientError) as error:
        logger.info("poll failed", extra={"channel": channel_id, "reason": error.reason[:300]})
    except (OperationalError, InterfaceError):
        logger.warning("poll failed on the database", exc_info=True, extra={"channel": channel_id})
