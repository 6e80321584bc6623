"""Thin tasks: the beat's evaluation of every active rule, and an alert's emails."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(
    name="apps.alerts.tasks.evaluate_alert_rules_task",
    ignore_result=True,
    time_limit=240,
    soft_time_limit=230,
)
def evaluate_alert_rules_task() -> int:
    """Beat (every 5 minutes). Idempotent: a spike already alerted updates its alert."""
    return services.alert_rules_evaluate()


@shared_task(
    bind=True, name="apps.alerts.tasks.alert_email_task", acks_late=True, ignore_result=True, max_retries=5
)
def alert_email_task(self, alert_id: int) -> None:
    try:
        services.alert_email_send(alert_id=alert_id)
    except OSError as error:  # the mail server is down or refused: try again later
        raise self.retry(countdown=min(600, 30 * 2**self.request.retries), exc=error) from error
