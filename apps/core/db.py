"""Database helpers that several apps share."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def local_settings(**settings: str):
    """A transaction (a savepoint inside the caller's) whose queries run with these PostgreSQL settings
    (`work_mem="64MB"`, `enable_seqscan="off"`, `hnsw__iterative_scan=...` for `hnsw.iterative_scan`).

    SET LOCAL would last until the caller's transaction ends: the previous values come back on leaving
    the block (an error rolls them back with the savepoint); a setting that had none yet keeps its value.
    """
    names = {key.replace("__", "."): str(value) for key, value in settings.items()}
    with transaction.atomic(), connection.cursor() as cursor:
        previous = {}
        for name, value in names.items():
            # (missing_ok: an extension's setting is unknown until its library is loaded)
            cursor.execute("SELECT current_setting(%s, true), set_config(%s, %s, true)", [name, name, value])
            previous[name] = cursor.fetchone()[0]
        yield
        for name, value in previous.items():
            if value is not None:
                cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
