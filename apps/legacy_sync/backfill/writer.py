"""Bulk inserts that skip rows already there, fast on PostgreSQL and portable elsewhere.

On PostgreSQL rows go in with COPY (the fastest path into the table); should a batch hit a
row that already exists (a retried range, two workers on one key), the COPY is rolled back to
a savepoint and the batch is inserted again with ``ON CONFLICT DO NOTHING``. Other databases
use ``bulk_create(ignore_conflicts=True)``. Either way the caller passes every column it
knows; the rest get the field's default, as the ORM would give them.
"""

import json
from collections.abc import Sequence

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
        with connection.cursor() as cursor:
            for start in range(0, len(records), SQL_CHUNK):
                cursor.executemany(sql, records[start : start + SQL_CHUNK])
