"""Celery tasks of the classifier: thin wrappers around services."""

from __future__ import annotations

import logging

from celery import shared_task

from . import services
from .engine import ClassifierUnavailable

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=8,
    autoretry_for=(ClassifierUnavailable,),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
)
def classify_messages_task(self, message_ids: list[int]) -> int:
    """Classify a batch of new messages. A model that cannot run makes the task retry with back-off;
    after the retries the messages still wait, and `classify_waiting_task` comes back to them."""
    return services.messages_classify(message_ids=message_ids)


@shared_task
def classify_waiting_task(older_than_seconds: int = 60) -> int:
    """Beat: send the messages that still wait for the classifier (a lost task, a model fixed since)."""
    waiting = services.messages_awaiting_classification(older_than_seconds=older_than_seconds)
    for start in range(0, len(waiting), services.BATCH):
        classify_messages_task.delay(waiting[start : start + services.BATCH])
    return len(waiting)


@shared_task(acks_late=True)
def train_classifier_task(version_id: int) -> None:
    from .models import ClassifierVersion

    services.classifier_train(version=ClassifierVersion.objects.get(pk=version_id))


@shared_task
def retrain_due_task() -> int:
    """Beat (nightly): record what the agents did as triage examples, then a new version for every scope
    with corrections (or such examples) newer than its model."""
    from apps.accounts.models import Brand, Organization

    services.needs_reply_examples_record()
    due = services.scopes_due_for_training()
    for organization_id, brand_id, task in due:
        version = services.classifier_version_start(
            organization=Organization.objects.get(pk=organization_id),
            brand=Brand.objects.get(pk=brand_id) if brand_id else None,
            task=task,
        )
        train_classifier_task.delay(version.pk)
    return len(due)
