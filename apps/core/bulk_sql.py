"""Many rows in one statement, with one array a column: what ingestion writes and reads by the hundred.

Django's cursors quote every parameter into the SQL text in Python (client-side binding), 2–3 µs a text or
timestamp: for a message's twenty columns about as much CPU as PostgreSQL spends storing the row with its
indexes. These statements bind their arrays on the server instead, in binary, which psycopg does in C
(~10× less a value).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import Model
from django.utils import timezone


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
    values = [_column(objects, field, db) for field in fields]
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


# Fields whose value goes to the database as it is when it has one of these types (what Django's
# get_db_prep_save would return unchanged): their column is read straight from the objects, about 10x
# cheaper than field.pre_save + get_db_prep_save a value. Exact classes only: a subclass may convert.
_PLAIN_TYPES: dict[type[models.Field], tuple[type, ...]] = {
    models.CharField: (str,),
    models.TextField: (str,),
    models.EmailField: (str,),
    models.URLField: (str,),
    models.SlugField: (str,),
    models.IntegerField: (int,),
    models.BigIntegerField: (int,),
    models.SmallIntegerField: (int,),
    models.PositiveIntegerField: (int,),
    models.PositiveBigIntegerField: (int,),
    models.PositiveSmallIntegerField: (int,),
    models.FloatField: (float, int),
    models.BooleanField: (bool,),
    models.DateTimeField: (datetime,),
}


_MISSING = object()


def _column(objects: list[Model], field: models.Field, db) -> list:
    """The values of one field for the insert, as Django would send them."""
    if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
        now = timezone.now()  # one instant for the batch (bulk_create reads the clock for each object)
        for obj in objects:
            setattr(obj, field.attname, now)
    if field.is_relation and field.target_field.primary_key:
        _take_related_pks(objects, field)
        return [obj.__dict__[field.attname] for obj in objects]
    accepted = _PLAIN_TYPES.get(type(field))
    if accepted is not None:
        column = [obj.__dict__.get(field.attname, _MISSING) for obj in objects]
        if all(_is_plain(value, accepted, field.null) for value in column):
            return column
    return [field.get_db_prep_save(field.pre_save(obj, True), db) for obj in objects]


def _is_plain(value, accepted: tuple[type, ...], null: bool) -> bool:
    if value is None:
        return null
    if type(value) in accepted:
        return type(value) is not datetime or value.tzinfo is not None  # naive: Django makes it aware
    return str in accepted and isinstance(value, str)  # choices (str enums): psycopg dumps them as str


def _take_related_pks(objects: list[Model], field: models.ForeignKey) -> None:
    """What Model._prepare_related_fields_for_save does for one foreign key: a related object saved after
    it was assigned gives its pk now; an unsaved one is refused."""
    for obj in objects:
        related = obj._state.fields_cache.get(field.name)
        if related is None:
            continue
        if related.pk is None:
            raise ValueError(
                f"insert() prohibited to prevent data loss due to unsaved related object '{field.name}'."
            )
        if obj.__dict__.get(field.attname) != related.pk:
            setattr(obj, field.name, related)  # sets the id and keeps the object cached, as Django does
