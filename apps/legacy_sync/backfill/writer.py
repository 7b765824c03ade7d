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

import json
from collections.abc import Sequence
from contextlib import contextmanager

from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

SQL_CHUNK = 2_000


def rows_insert(model: type[models.Model], rows: Sequence[dict]) -> None:
    """Insert ``rows`` (dicts keyed by field attname) into ``model``'s table, skipping any
    whose unique keys already exist. Precondition: inside the caller's transaction."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**row) for row in rows], ignore_conflicts=True)
        return
    given = set(rows[0])
    # An auto-increment primary key the caller leaves out is the database's to choose.
    fields = [
        f
        for f in model._meta.concrete_fields
        if f.attname in given or not isinstance(f, models.AutoField | models.BigAutoField)
    ]
    now = timezone.now()
    defaults = {
        f.attname: now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_default()
        for f in fields
        if f.attname not in given
    }  # fmt: skip
    json_columns = {f.attname for f in fields if isinstance(f, models.JSONField)}
    # Defaults are the same for every row: serialise them once.
    defaults = {
        name: json.dumps(value) if name in json_columns and value is not None else value
        for name, value in defaults.items()
    }
    attnames = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    dumps = json.dumps

    def values(row: dict) -> list:
        return [
            (dumps(row[name]) if name in json_columns and row[name] is not None else row[name])
            if name in row
            else defaults[name]
            for name in attnames
        ]

    records = [values(row) for row in rows]
    with _row_triggers_off(model) as triggers_off:
        try:
            copy_sql = f"COPY {table} ({columns}) FROM STDIN"
            with (
                transaction.atomic(),
                connection.cursor() as cursor,
                cursor.cursor.copy(copy_sql) as copy,
            ):
                for record in records:
                    copy.write_row(record)
        except (IntegrityError, connection.Database.IntegrityError):  # COPY raises the driver's
            placeholders = ", ".join(["%s"] * len(attnames))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING"  # noqa: S608
            # In a savepoint: a row that fails here too (a check constraint) must leave the
            # transaction usable for the caller's per-row fallback.
            with transaction.atomic(), connection.cursor() as cursor:
                for start in range(0, len(records), SQL_CHUNK):
                    cursor.executemany(sql, records[start : start + SQL_CHUNK])
    if triggers_off:
        foreign_keys_check(model, rows)


def foreign_keys_check(model: type[models.Model], rows: Sequence[dict]) -> None:
    """Raise IntegrityError unless every foreign key of ``rows`` names an existing row, and
    lock those rows ``FOR KEY SHARE`` until commit, as PostgreSQL's own check does. Runs after
    the insert, so a parent inserted in the same batch counts."""
    for field in model._meta.concrete_fields:
        if not field.is_relation or not field.db_constraint or field.attname not in rows[0]:
            continue
        ids = list({row[field.attname] for row in rows} - {None})
        if not ids:
            continue
        target = field.target_field
        parent = connection.ops.quote_name(target.model._meta.db_table)
        column = connection.ops.quote_name(target.column)
        array = f"%s::{target.rel_db_type(connection)}[]"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {column}::text FROM {parent} WHERE {column} = ANY({array}) "  # noqa: S608
                "FOR KEY SHARE",
                [[str(value) for value in ids]],
            )
            found = {row[0] for row in cursor.fetchall()}
        missing = [value for value in ids if str(value) not in found]
        if missing:
            raise IntegrityError(
                f"{model._meta.label}.{field.name}: {len(missing)} row(s) name a missing "
                f"{target.model._meta.label} (e.g. {missing[0]})."
            )


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
