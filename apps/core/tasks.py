from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_KEY = "worker-heartbeat"


@shared_task(name="apps.core.tasks.heartbeat_task", ignore_result=True)
def heartbeat_task() -> None:
    """Scheduled by beat: proves that beat schedules and a worker executes."""
    cache.set(HEARTBEAT_KEY, timezone.now().isoformat(), timeout=300)


@shared_task(name="apps.core.tasks.echo_task")
def echo_task(value):
    """A round trip through the broker, a worker and the result backend (health checks, tests)."""
    return value
