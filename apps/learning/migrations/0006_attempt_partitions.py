"""Partition the attempt log by month on PostgreSQL (issue 19); SQLite keeps a plain table.

The table is rebuilt as ``PARTITION BY RANGE (answered_at)``: its indexes and foreign keys are
recreated on the parent under their old names, and the primary key and unique indexes gain
``answered_at`` (PostgreSQL requires the partition key in them). Months are created from the
oldest attempt's to three months ahead, plus a default partition for rows outside them; the
rows are copied over in this migration's transaction (on a large table, plan for that copy).

Self-contained on purpose: a migration must keep doing what it did when later code changes.
"""

import re
from datetime import UTC, date, datetime

import django.db.models.deletion
from django.db import migrations, models

TABLE = "learning_attempt"
OLD = "learning_attempt_unpartitioned"
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
            "SELECT i.relname, pg_get_indexdef(i.oid), x.indisprimary, x.indisunique, "
            "c.conname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid "
            "WHERE x.indrelid = %s::regclass ORDER BY i.relname",
            [TABLE],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            [TABLE],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(f"SELECT min(answered_at) FROM {TABLE}")  # noqa: S608 - our names
        oldest = cursor.fetchone()[0] or datetime.now(UTC)

        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
        for number, (name, *_rest) in enumerate(indexes):
            cursor.execute(f'ALTER INDEX "{name}" RENAME TO "{OLD}_index_{number}"')
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            "INCLUDING STORAGE) PARTITION BY RANGE (answered_at)"
        )
        for name, definition, primary, unique, constraint in indexes:
            columns = re.search(r"USING \w+ \((.*?)\)(?: WHERE .*)?$", definition)[1]
            if "answered_at" not in columns and (primary or unique):
                columns = f"{columns}, answered_at"
            if primary:
                cursor.execute(
                    f'ALTER TABLE {TABLE} ADD CONSTRAINT "{constraint}" PRIMARY KEY ({columns})'
                )
            elif constraint:
                cursor.execute(
                    f'ALTER TABLE {TABLE} ADD CONSTRAINT "{constraint}" UNIQUE ({columns})'
                )
            else:
                method = re.search(r"USING (\w+) \(", definition)[1]
                where = re.search(r"\) (WHERE .*)$", definition)
                cursor.execute(
                    f'CREATE {"UNIQUE " if unique else ""}INDEX "{name}" ON {TABLE} '
                    f"USING {method} ({columns}) {where[1] if where else ''}"
                )
        for name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')

        month = date(oldest.year, oldest.month, 1)
        now = datetime.now(UTC)
        last = date(now.year, now.month, 1)
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
        cursor.execute(f"DROP TABLE {OLD}")
        cursor.execute(f"ANALYZE {TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0005_rollups"),
    ]

    operations = [
        # First: the partitioned table's key (id, answered_at) cannot be referenced by id.
        migrations.AlterField(
            model_name="xpevent",
            name="attempt",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="xp_events",
                to="learning.attempt",
            ),
        ),
        migrations.RunPython(partition, migrations.RunPython.noop, elidable=False),
    ]
