"""Partition the event log by month on PostgreSQL; SQLite keeps a plain table.

The table is rebuilt as ``PARTITION BY RANGE (occurred_at)`` with its indexes on the parent
under their old names; the primary key becomes ``(id, occurred_at)`` (PostgreSQL requires the
partition key in it) and the id stays an identity column. Months from this one to three
ahead are created, plus a default partition for rows outside them; the nightly
``analytics.partitions_ensure`` keeps months coming. The table is new here, so the copy is
of nothing (or of the few rows a development database recorded).

Self-contained on purpose: a migration must keep doing what it did when later code changes.
"""

from datetime import UTC, date, datetime

from django.db import migrations

TABLE = "analytics_analyticsevent"
OLD = f"{TABLE}_unpartitioned"
MONTHS_AHEAD = 3


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        if cursor.fetchone()[0] == "p":
            return
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary ORDER BY i.relname",
            [TABLE],
        )
        indexes = cursor.fetchall()
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
        cursor.execute(f"ALTER TABLE {OLD} RENAME CONSTRAINT {TABLE}_pkey TO {OLD}_pkey")
        for number, (name, _definition) in enumerate(indexes):
            cursor.execute(f'ALTER INDEX "{name}" RENAME TO "{OLD}_index_{number}"')
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            "INCLUDING STORAGE INCLUDING IDENTITY) PARTITION BY RANGE (occurred_at)"
        )
        cursor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_pkey PRIMARY KEY (id, occurred_at)"
        )
        for _name, definition in indexes:
            # read before the renames: it names the index and the table as they were, which
            # are now the new parent's
            cursor.execute(definition)

        now = datetime.now(UTC)
        month = date(now.year, now.month, 1)
        last = month
        for _ in range(MONTHS_AHEAD):
            last = _next_month(last)
        while month <= last:
            following = _next_month(month)
            cursor.execute(
                # The bounds are literals: DDL takes no bound parameters (server-side binding)
                f'CREATE TABLE "{TABLE}_y{month.year:04d}m{month.month:02d}" PARTITION OF {TABLE} '
                f"FOR VALUES FROM ('{month} 00:00:00+00') TO ('{following} 00:00:00+00')"
            )
            month = following
        cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")  # noqa: S608 - our names
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), "  # noqa: S608
            f"coalesce((SELECT max(id) FROM {TABLE}), 0) + 1, false)"
        )
        cursor.execute(f"DROP TABLE {OLD}")


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]

    operations = [migrations.RunPython(partition, migrations.RunPython.noop, elidable=False)]
