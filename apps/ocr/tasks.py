"""Thin Celery task around the OCR service (queue: cxm.queues, "classification")."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="apps.ocr.tasks.read_images_task", ignore_result=True, acks_late=True)
def read_images_task(message_id: int) -> None:
    # No retries: an image that cannot be fetched or read is recorded with the reason on the message.
    services.message_read_images(message_id=message_id)
