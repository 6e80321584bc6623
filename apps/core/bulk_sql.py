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
from django.db.models.base import ModelState
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


# From this many rows, `insert` COPYs them: PostgreSQL parses a COPY row for about two thirds of the CPU of
# a row of INSERT … SELECT unnest(…), and psycopg writes it for a tenth of the client's CPU (2 against ~18
# µs a message row, bench/ingestion.py's messages); below, the extra round trip for the ids costs more.
COPY_FROM_ROWS = 64


def insert(objects: list[Model], *, ignore_conflicts: bool = False) -> None:
    """INSERT new objects of one model and set their pks, as `bulk_create` does (it also unnests arrays),
    but with each column's values dumped as one binary array, or COPY'd from `COPY_FROM_ROWS` objects on.
    With `ignore_conflicts`, rows that break a unique constraint are skipped and, as with bulk_create, no pk
    is set."""
    if not objects:
        return
    meta = objects[0]._meta
    db = connections[DEFAULT_DB_ALIAS]  # not the `connection` proxy, which looks itself up at every use
    fields = [field for field in meta.concrete_fields if not field.primary_key and not field.generated]
    columns = ", ".join(db.ops.quote_name(field.column) for field in fields)
    values = [_column(objects, field, db) for field in fields]
    table, pk_column = db.ops.quote_name(meta.db_table), db.ops.quote_name(meta.pk.column)
    with binary_cursor() as cursor:
        if len(objects) >= COPY_FROM_ROWS and not ignore_conflicts:
            # COPY returns no ids: they are drawn from the table's sequence first, in one statement.
            cursor.execute(
                "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                [_sequence(cursor, meta.db_table, meta.pk.column), len(objects)],
            )
            pks = [row[0] for row in cursor.fetchall()]
            with cursor.copy(f"COPY {table} ({pk_column}, {columns}) FROM STDIN") as copy:
                for row in zip(pks, *values, strict=True):
                    copy.write_row(row)
        else:
            # Array types without their modifiers (varchar[], not varchar(500)[]): nothing is truncated
            # silently.
            arrays = ", ".join(f"%b::{field.db_type(db).split('(')[0]}[]" for field in fields)
            sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})"
            if ignore_conflicts:
                cursor.execute(f"{sql} ON CONFLICT DO NOTHING", values)
                return
            cursor.execute(f"{sql} RETURNING {pk_column}", values)
            # PostgreSQL returns the rows of an INSERT … SELECT unnest(…) in the arrays' order.
            pks = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objects, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = db.alias


_SEQUENCES: dict[tuple[str, str], str] = {}


def _sequence(cursor: psycopg.Cursor, table: str, column: str) -> str:
    """The sequence behind a table's id column (its identity), looked up once a process."""
    key = (table, column)
    if key not in _SEQUENCES:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, column])
        _SEQUENCES[key] = cursor.fetchone()[0]
    return _SEQUENCES[key]


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
        # Checked by type, a few a column, rather than value by value.
        if all(_is_plain(kind, accepted, field.null) for kind in set(map(type, column))) and (
            datetime not in accepted or all(value.tzinfo is not None for value in column if value is not None)
        ):  # a naive datetime: Django makes it aware
            return column
    return [field.get_db_prep_save(field.pre_save(obj, True), db) for obj in objects]


def _is_plain(kind: type, accepted: tuple[type, ...], null: bool) -> bool:
    if kind is type(None):
        return null
    # Exact classes, but for choices (str enums), which psycopg dumps as str.
    return kind in accepted or (str in accepted and issubclass(kind, str))


def _take_related_pks(objects: list[Model], field: models.ForeignKey) -> None:
    """What Model._prepare_related_fields_for_save does for one foreign key: a related object saved after
    it was assigned gives its pk now; an unsaved one is refused."""
    for obj in objects:
        related = obj._state.fields_cache.get(field.name)
        if related is None:
            continue
        pk = related.pk
        if pk is None:
            raise ValueError(
                f"insert() prohibited to prevent data loss due to unsaved related object '{field.name}'."
            )
        if obj.__dict__.get(field.attname) != pk:
            setattr(obj, field.name, related)  # sets the id and keeps the object cached, as Django does


# Per model: the defaults of its stored fields (those computed at each call, like `dict`, apart), its
# foreign keys by name, and the names a value may be given by.
_TEMPLATES: dict[type[Model], tuple[dict, list, dict, frozenset]] = {}


def _template(model: type[Model]) -> tuple[dict, list, dict, frozenset]:
    template = _TEMPLATES.get(model)
    if template is None:
        fixed, computed, relations = {}, [], {}
        for field in model._meta.concrete_fields:
            if field.generated:  # read back from the database, as Model() leaves it
                continue
            if field.has_default() and callable(field.default):
                computed.append((field.attname, field.default))
            else:
                fixed[field.attname] = field.get_default()
            if field.is_relation:
                relations[field.name] = field
        names = frozenset([*fixed, *(attname for attname, _ in computed), *relations])
        template = _TEMPLATES[model] = (fixed, computed, relations, names)
    return template


def unsaved(model: type[Model], **values) -> Model:
    """A new object, as `model(**values)` builds it (every other field at its default, a related object
    given by name kept cached, its id taken now or by `insert` once it is saved) for about a tenth of the
    CPU: ingestion builds thousands a batch, and Model.__init__ runs each field's descriptor and default.
    Plain models only (no pre_init/post_init receivers, no custom __init__), which ingestion's are."""
    fixed, computed, relations, names = _template(model)
    if not names.issuperset(values):
        raise TypeError(f"{model.__name__} has no field named {sorted(set(values) - names)}")
    obj = model.__new__(model)
    state = obj._state = ModelState()
    attributes = obj.__dict__
    attributes.update(fixed)
    for attname, default in computed:
        attributes[attname] = default()
    for name, value in values.items():
        field = relations.get(name)
        if field is None:
            attributes[name] = value
        elif value is None or field.one_to_one:
            setattr(obj, name, value)
        else:
            state.fields_cache[name] = value
            attributes[field.attname] = value.pk
            state.db = state.db or DEFAULT_DB_ALIAS
    return obj
