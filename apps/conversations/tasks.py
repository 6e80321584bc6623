from celery import shared_task

from . import services


@shared_task
def reprioritise_waiting_task() -> int:
    return services.conversations_reprioritise()


@shared_task(ignore_result=True, time_limit=120, soft_time_limit=110)
def unsnooze_due_task() -> int:
    """Beat (every minute): snoozed conversations whose time has come go back to the inbox."""
    return services.conversations_unsnooze_due()
