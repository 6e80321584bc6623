"""Many rows in one statement, with one array a column: what ingestion writes and reads by the hundred.

Django's cursors quote every parameter into the SQL text in Python (client-side binding), 2–3 µs a text or
timestamp: for a message's twenty columns about as much CPU as PostgreSQL spends storing the row with its
indexes. These statements bind their arrays on the server instead, in binary, which psycopg does in C
(~10× less a value).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from operator import itemgetter

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


# Values whose JSON text json.dumps writes as Django's adapter would (no expression, no custom type).
_JSON_TYPES = frozenset({dict, list, str, int, float, bool})


def _json_text(value) -> str | None:
    if value is None:  # SQL NULL, as Django stores None
        return None
    return "{}" if type(value) is dict and not value else json.dumps(value)


def _column(objects: list[Model], field: models.Field, db) -> list:
    """The values of one field for the insert, as Django would send them."""
    if type(field) is models.JSONField and field.encoder is None:
        column = list(map(itemgetter(field.attname), map(vars, objects)))
        # The JSON text itself, without an adapter object a value (a message has two JSON columns, nearly
        # always empty): COPY sends it as text, and a text[] array is cast to jsonb[] on the server.
        if all(kind in _JSON_TYPES for kind in set(map(type, column)) - {type(None)}):
            return [_json_text(value) for value in column]
    if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
        now = timezone.now()  # one instant for the batch (bulk_create reads the clock for each object)
        for obj in objects:
            setattr(obj, field.attname, now)
    if field.is_relation and field.target_field.primary_key:
        _take_related_pks(objects, field)
        return list(map(itemgetter(field.attname), map(vars, objects)))
    accepted = _PLAIN_TYPES.get(type(field))
    if accepted is not None:
        try:  # a C loop; a value never set is not plain (its field's default applies)
            column = list(map(itemgetter(field.attname), map(vars, objects)))
        except KeyError:
            column = [_MISSING]
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
    name, attname, pk_attname = field.name, field.attname, field.target_field.attname
    for obj in objects:
        related = obj._state.fields_cache.get(name)
        if related is None:
            continue
        # The pk as the `pk` property reads it, without its two calls (thousands of objects a batch).
        pk = related.__dict__.get(pk_attname, _MISSING)
        if pk is _MISSING:
            pk = related.pk
        if pk is None:
            raise ValueError(
                f"insert() prohibited to prevent data loss due to unsaved related object '{field.name}'."
            )
        if obj.__dict__.get(attname) != pk:
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


def select(model: type[Model], where: str, params: list) -> list[Model]:
    """The rows of `model`'s table matching `where` (SQL on its columns, parameters bound on the server:
    arrays as %b), as objects the ORM would load, built without Model.__init__ (see `unsaved`): ingestion
    reads back hundreds of known authors a batch. Every column is read, so no field is left deferred; only
    for models whose fields need no conversion from what psycopg returns (no from_db_value: no JSON)."""
    meta = model._meta
    fields = meta.concrete_fields
    if any(hasattr(field, "from_db_value") or field.generated for field in fields):
        raise TypeError(f"{model.__name__} has fields that need converting: use the ORM")
    db = connections[DEFAULT_DB_ALIAS]
    columns = ", ".join(db.ops.quote_name(field.column) for field in fields)
    attnames = [field.attname for field in fields]
    objects = []
    with binary_cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {db.ops.quote_name(meta.db_table)} WHERE {where}", params)
        for row in cursor:
            obj = model.__new__(model)
            state = obj._state = ModelState()
            state.adding, state.db = False, db.alias
            obj.__dict__.update(zip(attnames, row, strict=True))
            objects.append(obj)
    return objects


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
