"""Search backends behind one interface: PostgreSQL full-text (built in) or Elasticsearch."""

from __future__ import annotations

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
    if settings.ELASTICSEARCH_URL:
        from .elasticsearch import ElasticsearchBackend

        return ElasticsearchBackend()
    from .postgres import PostgresBackend

    return PostgresBackend()
