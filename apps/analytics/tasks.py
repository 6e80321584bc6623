"""Celery tasks of the dashboards: thin wrappers around services."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def refresh_rollups_task() -> int:
    """Recompute the rollup buckets that writes marked dirty (after ingestion, and every minute by beat)."""
    services.rollups_refresh_started()
    return services.rollups_refresh()
