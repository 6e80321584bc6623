"""Health of every component the app depends on, each check bounded in time."""

from __future__ import annotations

import time
from collections.abc import Callable

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from kombu.exceptions import OperationalError as KombuOperationalError

from .tasks import HEARTBEAT_KEY


def _timed(check: Callable[[], dict]) -> dict:
    started = time.perf_counter()
    try:
        result = {"ok": True, **check()}
    except Exception as error:  # a health check reports every failure, whatever its type
        result = {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


# A database that does not answer within this long is reported down: /health/ answers within a second
# whatever is down (Django's pool would wait its full timeout for a connection).
DATABASE_PROBE_TIMEOUT_SECONDS = 1


def check_database() -> dict:
    """On a connection of its own, opened with a short timeout, rather than one from the pool."""
    import psycopg

    params = {**connection.get_connection_params(), "connect_timeout": DATABASE_PROBE_TIMEOUT_SECONDS}
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(
        **params, options=f"-c statement_timeout={DATABASE_PROBE_TIMEOUT_SECONDS * 1000}"
    ) as probe:
        version, extensions = probe.execute(
            "SELECT current_setting('server_version'), "
            "(SELECT array_agg(extname ORDER BY extname) FROM pg_extension)"
        ).fetchone()
    return {"version": version, "extensions": extensions}


def check_redis() -> dict:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    client.ping()
    return {"version": client.info("server").get("redis_version")}


def check_worker() -> dict:
    from cxm.celery import app

    # Returns as soon as one worker answers; waits the full second only when none does. A pooled broker
    # connection that Redis closed (a restart) fails once: the second try reconnects.
    try:
        replies = app.control.ping(timeout=1.0, limit=1) or []
    except (OSError, redis.RedisError, KombuOperationalError):
        replies = app.control.ping(timeout=1.0, limit=1) or []
    if not replies:
        raise RuntimeError("no Celery worker answered a ping within 1 s")
    return {
        "workers": sorted(name for reply in replies for name in reply),
        "last_beat": cache.get(HEARTBEAT_KEY),
    }


def check_search() -> dict:
    if settings.ELASTICSEARCH_URL:
        from elasticsearch import Elasticsearch

        client = Elasticsearch(settings.ELASTICSEARCH_URL, request_timeout=2)
        health = client.cluster.health()
        if health["status"] == "red":
            raise RuntimeError("Elasticsearch cluster is red")
        return {"backend": "elasticsearch", "cluster": health["status"]}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_extension WHERE extname IN ('pg_trgm', 'unaccent')")
        (found,) = cursor.fetchone()
    if found != 2:
        raise RuntimeError("PostgreSQL full-text search needs the pg_trgm and unaccent extensions")
    return {"backend": "postgresql"}


CHECKS = {
    "database": check_database,
    "redis": check_redis,
    "worker": check_worker,
    "search": check_search,
}


# Checks that read the database: skipped while it is down (each would wait for Django's pool).
NEEDS_DATABASE = {"search"}


def check_register(name: str, check: Callable[[], dict], *, needs_database: bool = False) -> None:
    """An app above core adds its own check (from its AppConfig.ready(): the classifier's models...)."""
    CHECKS[name] = check
    if needs_database:
        NEEDS_DATABASE.add(name)


def health_report() -> dict:
    checks = {}
    for name, check in CHECKS.items():
        if name in NEEDS_DATABASE and not checks["database"]["ok"]:
            checks[name] = {"ok": False, "error": "skipped: the database is down", "ms": 0.0}
        else:
            checks[name] = _timed(check)
    return {"status": "ok" if all(c["ok"] for c in checks.values()) else "degraded", "checks": checks}
