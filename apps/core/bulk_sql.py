"""Many rows in one statement, with one array a column: what ingestion writes and reads by the hundred.

Django's cursors quote every parameter into the SQL text in Python (client-side binding), 2–3 µs a text or
timestamp: for a message's twenty columns about as much CPU as PostgreSQL spends storing the row with its
indexes. These statements bind their arrays on the server instead, in binary, which psycopg does in C
(~10× less a value).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model


@contextmanager
def binary_cursor() -> Iterator[psycopg.Cursor]:
    """A cursor on Django's connection (same transaction) whose parameters are bound on the server: give
    arrays as %b, as psycopg dumps lists of texts in the text format otherwise (escaped in Python).
    Errors come out as Django's (IntegrityError, OperationalError...), as from Django's own cursors."""
    db = connections[DEFAULT_DB_ALIAS]
    db.ensure_connection()
    db.validate_no_broken_transaction()
    with db.wrap_database_errors, psycopg.Cursor(db.connection) as cursor:
        yield cursor


def insert(objects: list[Model], *, ignore_conflicts: bool = False) -> None:
    """INSERT new objects of one model and set their pks, as `bulk_create` does (it also unnests arrays),
    but with each column's values dumped as one binary array. With `ignore_conflicts`, rows that break a
    unique constraint are skipped and, as with bulk_create, no pk is set."""
    if not objects:
        return
    meta = objects[0]._meta
    db = connections[DEFAULT_DB_ALIAS]  # not the `connection` proxy, which looks itself up at every use
    fields = [field for field in meta.concrete_fields if not field.primary_key and not field.generated]
    columns = ", ".join(db.ops.quote_name(field.column) for field in fields)
    # Array types without their modifiers (varchar[], not varchar(500)[]): nothing is truncated silently.
    arrays = ", ".join(f"%b::{field.db_type(db).split('(')[0]}[]" for field in fields)
    for obj in objects:
        obj._prepare_related_fields_for_save(operation_name="insert")
    values = [[field.get_db_prep_save(field.pre_save(obj, True), db) for obj in objects] for field in fields]
    sql = f"INSERT INTO {db.ops.quote_name(meta.db_table)} ({columns}) SELECT * FROM unnest({arrays})"
    with binary_cursor() as cursor:
        if ignore_conflicts:
            cursor.execute(f"{sql} ON CONFLICT DO NOTHING", values)
            return
        cursor.execute(f"{sql} RETURNING {db.ops.quote_name(meta.pk.column)}", values)
        # PostgreSQL returns the rows of an INSERT … SELECT unnest(…) in the arrays' order.
        pks = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objects, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = db.alias
