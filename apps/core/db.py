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
        # One statement sets them all and one puts them back: each is a round trip, and on a busy server a
        # round trip costs milliseconds (a search opens such a block up to three times). PostgreSQL computes
        # the columns in order, so each setting's value is read before it is set. (missing_ok: an
        # extension's setting is unknown until its library is loaded.)
        previous = {}
        if names:
            pairs = ", ".join(["current_setting(%s, true), set_config(%s, %s, true)"] * len(names))
            cursor.execute(
                f"SELECT {pairs}", [p for name, value in names.items() for p in (name, name, value)]
            )
            previous = dict(zip(names, cursor.fetchone()[::2], strict=True))
        yield
        back = [(name, value) for name, value in previous.items() if value is not None]
        if back:
            resets = ", ".join(["set_config(%s, %s, true)"] * len(back))
            cursor.execute(f"SELECT {resets}", [p for pair in back for p in pair])
