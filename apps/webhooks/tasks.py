"""Thin tasks: one delivery attempt, rescheduled while the endpoint asks for a retry; a beat sweep of
deliveries whose task was lost."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(
    name="apps.webhooks.tasks.webhook_deliver_task",
    acks_late=True,
    ignore_result=True,
    time_limit=60,
    soft_time_limit=50,
)
def webhook_deliver_task(delivery_id: int) -> None:
    retry_in = services.delivery_attempt(delivery_id=delivery_id)
    if retry_in is not None:
        webhook_deliver_task.apply_async((delivery_id,), countdown=retry_in)


@shared_task(
    name="apps.webhooks.tasks.webhook_deliveries_due_task",
    ignore_result=True,
    time_limit=120,
    soft_time_limit=110,
)
def webhook_deliveries_due_task() -> int:
    """Beat (every minute): pending deliveries past their attempt time, whose scheduled task never ran."""
    delivery_ids = services.deliveries_due()
    for delivery_id in delivery_ids:
        webhook_deliver_task.delay(delivery_id)
    return len(delivery_ids)
