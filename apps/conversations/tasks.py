from celery import shared_task

from . import services


@shared_task
def reprioritise_waiting_task() -> int:
    return services.conversations_reprioritise()
