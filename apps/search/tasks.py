"""Thin Celery tasks around the search services."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache

from . import services

REINDEX_PROGRESS_KEY = "search:reindex:progress"


@shared_task(
    name="apps.search.tasks.index_messages_task",
    acks_late=True,
    autoretry_for=(ConnectionError, TimeoutError, OSError),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=8,
    ignore_result=True,
)
def index_messages_task(message_ids: list[int]) -> None:
    services.messages_index(message_ids=message_ids)


@shared_task(
    name="apps.search.tasks.reindex_task",
    ignore_result=True,
    time_limit=6 * 3600,
    soft_time_limit=6 * 3600 - 60,  # not the global 14 minutes: a reindex of millions of rows takes hours
)
def reindex_task(organization_id: int | None = None) -> None:
    """The reindex command as a task; its progress is kept in the cache for pages to show."""

    def progress(done: int, total: int) -> None:
        cache.set(REINDEX_PROGRESS_KEY, {"done": done, "total": total}, 24 * 3600)

    try:
        services.search_reindex(organization_id=organization_id, progress=progress)
    except Exception as error:
        # The page says it failed and why, and offers to start again.
        cache.set(REINDEX_PROGRESS_KEY, {"done": 0, "total": 0, "error": str(error)[:500]}, 24 * 3600)
        raise
