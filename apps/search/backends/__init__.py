"""Search backends behind one interface: PostgreSQL full-text (built in) or Elasticsearch."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from .base import COUNT_CAP, MAX_PAGE, PAGE_SIZE, SearchBackend, SearchFilters, SearchHit, SearchResults

__all__ = [
    "COUNT_CAP",
    "MAX_PAGE",
    "PAGE_SIZE",
    "SearchBackend",
    "SearchFilters",
    "SearchHit",
    "SearchResults",
    "get_backend",
]


def get_backend() -> SearchBackend:
    """Elasticsearch when ELASTICSEARCH_URL is set, else PostgreSQL."""
    return _backend(settings.ELASTICSEARCH_URL or "")


@lru_cache(maxsize=4)
def _backend(elasticsearch_url: str) -> SearchBackend:
    # One backend per process (and URL): the Elasticsearch client keeps its connection pool, instead of a
    # new client on every ingested batch and every search.
    if elasticsearch_url:
        from .elasticsearch import ElasticsearchBackend

        return ElasticsearchBackend(elasticsearch_url)
    from .postgres import PostgresBackend

    return PostgresBackend()
