"""Bulk inserts that skip rows already there, fast on PostgreSQL and portable elsewhere.

On PostgreSQL rows go in with COPY (the fastest path into the table); should a batch hit a
row that already exists (a retried range, two workers on one key), the COPY is rolled back to
a savepoint and the batch is inserted again with ``ON CONFLICT DO NOTHING``. Other databases
use ``bulk_create(ignore_conflicts=True)``. Either way the caller passes every column it
knows; the rest get the field's default, as the ORM would give them.

Foreign keys: PostgreSQL checks Django's (deferred) foreign keys with a trigger per row at
commit, which was about half of a batch's time. Where the role may set
``session_replication_role`` (a superuser, or granted it on PostgreSQL 15+), the COPY runs
with row triggers off, as ``pg_restore --disable-triggers`` does, and ``foreign_keys_check``
does the same check set-wise instead: one query per foreign key and batch, taking the same
``FOR KEY SHARE`` locks, so a parent deleted concurrently still cannot leave an orphan. A
missing parent raises IntegrityError exactly as the trigger would. Tables with triggers of
their own keep them.
"""

import operator
import re
from collections.abc import Sequence
from contextlib import contextmanager
from functools import lru_cache
from uuid import UUID

import orjson
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb, JsonbBinaryDumper
from psycopg.types.uuid import UUIDBinaryDumper

SQL_CHUNK = 2_000


def rows_insert(model: type[models.Model], rows: Sequence[dict]) -> None:
    """Insert ``rows`` (dicts keyed by field attname, every row with the same keys) into
    ``model``'s table, skipping any whose unique keys already exist. Precondition: inside the
    caller's transaction."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], ignore_conflicts=True)
        return
    by_name = {f.attname: f for f in model._meta.concrete_fields}
    given = [name for name in rows[0] if name in by_name]  # other keys are not columns
    given_set = set(given)
    # An auto-increment primary key the caller leaves out is the database's to choose; every
    # other column left out gets the field's default, the same for every row.
    now = timezone.now()
    defaults = {
        f.attname: now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_default()
        for f in model._meta.concrete_fields
        if f.attname not in given_set and not isinstance(f, models.AutoField | models.BigAutoField)
    }  # fmt: skip
    fields = [by_name[name] for name in (*given, *defaults)]
    # Encoded once here rather than once per row (an attempt has three JSON defaults).
    tail = tuple(
        jsonb_encoded(value) if isinstance(by_name[name], models.JSONField) else value
        for name, value in defaults.items()
    )
    pick = operator.itemgetter(*given)
    if len(given) == 1:  # itemgetter of one key gives the value, not a tuple
        records = [(pick(row), *tail) for row in rows]
    else:
        records = [(*pick(row), *tail) for row in rows]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    with _row_triggers_off(model) as triggers_off:
        try:
            with (
                transaction.atomic(),
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
            ):
                for dumper in (UuidOrTextBinaryDumper, JsonbCopyDumper):
                    cursor.cursor.adapters.register_dumper(None, dumper)
                copy.set_types([_copy_type(f) for f in fields])
                for record in records:
                    copy.write_row(record)
        except (IntegrityError, connection.Database.IntegrityError):  # COPY raises the driver's
            _rows_insert_skipping_conflicts(table, columns, fields, records)
    if triggers_off:
        foreign_keys_check(model, rows)


def _copy_type(field: models.Field) -> str:
    """The PostgreSQL type binary COPY encodes ``field``'s values as (``varchar(16)`` →
    ``varchar``). Binary, because encoding timestamps and UUIDs as text was a third of a
    batch's time."""
    return _TYPE_MODIFIER.sub("", field.db_type(connection))


_TYPE_MODIFIER = re.compile(r"\(.*\)$")


class UuidOrTextBinaryDumper(UUIDBinaryDumper):
    """UUID columns take UUIDs or their text (learner states read ids as text)."""

    def dump(self, obj):
        return obj.bytes if isinstance(obj, UUID) else _uuid_text_bytes(obj)


@lru_cache(maxsize=1 << 16)  # a page's learners, atoms and concepts repeat on every row
def _uuid_text_bytes(text: str) -> bytes:
    return UUID(text).bytes


class JsonbCopyDumper(JsonbBinaryDumper):
    """JSON values encoded with orjson (json.dumps per row was a fifth of a batch), or
    already encoded (``jsonb_encoded``: bytes are never a JSON value)."""

    def dump(self, obj):
        if isinstance(obj, bytes):
            return obj
        return jsonb_encoded(obj)


def jsonb_encoded(value) -> bytes | None:
    """``value`` in binary COPY's jsonb encoding: a version byte, then the JSON text."""
    if value is None:
        return None
    return b"\x01" + orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def _rows_insert_skipping_conflicts(table, columns, fields, records) -> None:
    """The slow path, when a batch hits rows already there: ``ON CONFLICT DO NOTHING``."""
    json_at = {i for i, f in enumerate(fields) if isinstance(f, models.JSONField)}
    if json_at:
        records = [
            tuple(_jsonb_param(v) if i in json_at else v for i, v in enumerate(r)) for r in records
        ]
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING"  # noqa: S608
    # In a savepoint: a row that fails here too (a check constraint) must leave the
    # transaction usable for the caller's per-row fallback.
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(records), SQL_CHUNK):
            cursor.executemany(sql, records[start : start + SQL_CHUNK])


def _jsonb_param(value):
    if isinstance(value, bytes):  # encoded for COPY: the JSON text after the version byte
        return value[1:].decode()
    return None if value is None else Jsonb(value)


def foreign_keys_check(model: type[models.Model], rows: Sequence[dict]) -> None:
    """Raise IntegrityError unless every foreign key of ``rows`` names an existing row, and
    lock those rows ``FOR KEY SHARE`` until commit, as PostgreSQL's own check does. Runs after
    the insert, so a parent inserted in the same batch counts."""
    for field in model._meta.concrete_fields:
        if not field.is_relation or not field.db_constraint or field.attname not in rows[0]:
            continue
        ids = {str(value) for value in {row[field.attname] for row in rows} - {None}}
        if not ids:
            continue
        target = field.target_field
        parent = connection.ops.quote_name(target.model._meta.db_table)
        column = connection.ops.quote_name(target.column)
        array, param = array_param(ids, target.rel_db_type(connection))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM {parent} WHERE {column} = ANY({array}) "  # noqa: S608
                "FOR KEY SHARE) AS locked",
                [param],
            )
            if cursor.fetchone()[0] == len(ids):
                continue
        example = min(map(str, keys_missing(target, ids)))
        raise IntegrityError(
            f"{model._meta.label}.{field.name}: a row names a missing "
            f"{target.model._meta.label} ({example})."
        )


def keys_missing(target: models.Field, values) -> set:
    """Which of ``values`` no row of ``target``'s table holds in ``target`` (a unique column),
    picked out by the server: only the few missing come back. PostgreSQL only."""
    table = connection.ops.quote_name(target.model._meta.db_table)
    column = connection.ops.quote_name(target.column)
    array, param = array_param(values, target.rel_db_type(connection))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT key FROM unnest({array}) AS key "  # noqa: S608 - names from the model
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {column} = key)",
            [param],
        )
        return {row[0] for row in cursor.fetchall()}


def array_param(values, db_type: str) -> tuple[str, object]:
    """An ``= ANY(...)`` placeholder and its parameter for ``values`` of ``db_type``. UUIDs
    and integers go as one array literal: adapting thousands of them one by one cost more
    than the lookup itself."""
    if db_type in ("uuid", "integer", "bigint", "smallint"):
        return f"%s::{db_type}[]", "{" + ",".join(map(str, values)) + "}"
    return f"%s::{db_type}[]", [str(value) for value in values]


@contextmanager
def _row_triggers_off(model: type[models.Model]):
    """Row triggers off for the insert (yields whether they are): only when the role may and
    the table has no triggers beyond foreign keys; back on before anything else writes."""
    if not _may_skip_triggers(model._meta.db_table):
        yield False
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
    try:
        yield True
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = origin")


_trigger_skipping: dict[tuple, bool] = {}


def _may_skip_triggers(table: str) -> bool:
    key = (connection.settings_dict["NAME"], connection.settings_dict.get("USER"), table)
    if key not in _trigger_skipping:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                    OR (current_setting('server_version_num')::int >= 150000
                        AND has_parameter_privilege('session_replication_role', 'SET')),
                    NOT EXISTS (SELECT 1 FROM pg_trigger
                                WHERE tgrelid = %s::regclass AND NOT tgisinternal)
                """,
                [table],
            )
            may_set, no_own_triggers = cursor.fetchone()
        _trigger_skipping[key] = bool(may_set and no_own_triggers)
    return _trigger_skipping[key]
