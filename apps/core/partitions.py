"""Monthly range partitions of a PostgreSQL table, shared by the tables partitioned that way
(the attempt log, ``learning_attempt`` on ``answered_at``; the analytics event log,
``analytics_analyticsevent`` on ``occurred_at``).

One partition per calendar month in UTC, named ``<table>_yYYYYmMM``, and a default partition
``<table>_default`` for rows no month covers. Indexes live on the parent, so every month has
them. SQLite keeps one plain table: every method is a no-op there (``partitioned()`` is false).
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection, transaction
from django.utils import timezone


class PartitionError(Exception):
    """A partition operation refused, with a message for the operator."""


@dataclass(frozen=True)
class Partition:
    name: str
    month: date | None  # None: the default partition
    rows: int  # the planner's estimate (exact counts would scan every month)
    bytes: int


def month_start(value: date | datetime) -> date:
    """The first day of ``value``'s month (in UTC, for an aware datetime)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return date(value.year, value.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_instant(month: date) -> datetime:
    """The UTC instant ``month`` starts at."""
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def _bound(month: date) -> str:
    return f"{month.isoformat()} 00:00:00+00"


@dataclass(frozen=True)
class MonthlyPartitions:
    """The partitions of ``table``, range-partitioned on ``column``. ``create_lock`` is the
    advisory lock key that makes creations of this table's months one at a time."""

    table: str
    column: str
    create_lock: int

    @property
    def default_partition(self) -> str:
        return f"{self.table}_default"

    def partition_name(self, month: date) -> str:
        return f"{self.table}_y{month.year:04d}m{month.month:02d}"

    def partitioned(self) -> bool:
        """Whether the table is partitioned here (PostgreSQL, after its migration)."""
        if connection.vendor != "postgresql":
            return False
        with connection.cursor() as cursor:
            cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [self.table])
            row = cursor.fetchone()
        return bool(row) and row[0] == "p"

    def partitions(self) -> list[Partition]:
        """The attached partitions, months in order, then the default one."""
        if not self.partitioned():
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname, greatest(c.reltuples, 0)::bigint, "
                "pg_total_relation_size(c.oid) "
                "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = %s::regclass",
                [self.table],
            )
            rows = cursor.fetchall()
        pattern = re.compile(rf"^{re.escape(self.table)}_y(\d{{4}})m(\d{{2}})$")
        found = []
        for name, estimate, size in rows:
            match = pattern.match(name)
            month = date(int(match[1]), int(match[2]), 1) if match else None
            found.append(Partition(name, month, estimate, size))
        return sorted(found, key=lambda p: (p.month is None, p.month or date.min))

    def ensure(self, *, since: date, through: date) -> list[str]:
        """Create a partition for each month from ``since``'s to ``through``'s (inclusive) that
        has none; returns the names created. Idempotent; a no-op where not partitioned."""
        months, month, last = [], month_start(since), month_start(through)
        while month <= last:
            months.append(month)
            month = next_month(month)
        return self.ensure_months(months)

    def ensure_months(self, months) -> list[str]:
        """Create the partitions missing among ``months`` (only those, so one stray date does
        not create decades of empty ones)."""
        if not self.partitioned():
            return []
        wanted = sorted({month_start(m) for m in months} - {p.month for p in self.partitions()})
        return [name for name in map(self._create, wanted) if name]

    def ensure_ahead(self, *, months: int, now: datetime | None = None) -> list[str]:
        """Keep the current month and the ``months`` after it ready (the beat tasks' call)."""
        this_month = month_start((now or timezone.now()).astimezone(UTC))
        through = this_month
        for _ in range(months):
            through = next_month(through)
        return self.ensure(since=this_month, through=through)

    def _create(self, month: date) -> str | None:
        """Create ``month``'s partition, moving in any rows of that month the default partition
        holds (attaching a range the default partition has rows in would fail). Returns its
        name, or None when someone else created it first (workers race for new months)."""
        plain = self.partition_name(month)
        name = connection.ops.quote_name(plain)
        low, high = _bound(month), _bound(next_month(month))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [self.create_lock])
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [plain])
            if cursor.fetchone()[0]:
                return None
            cursor.execute(
                f"CREATE TABLE {name} (LIKE {self.table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            )
            # The names are ours; the bounds are parameters.
            move = (
                f"WITH moved AS (DELETE FROM {self.default_partition} "  # noqa: S608
                f"WHERE {self.column} >= %s AND {self.column} < %s RETURNING *) "
                f"INSERT INTO {name} SELECT * FROM moved"
            )
            cursor.execute(move, [low, high])
            # The bounds are literals (ours): DDL takes no bound parameters on the server
            cursor.execute(
                f"ALTER TABLE {self.table} ATTACH PARTITION {name} "
                f"FOR VALUES FROM ('{low}') TO ('{high}')"
            )
        return plain

    def detach(self, *, month: date, schema: str) -> str:
        """Detach ``month``'s partition into ``schema`` (still queryable there); returns its
        archived name. The caller decides whether the month may leave (see the callers)."""
        name = self.partition_name(month)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            cursor.execute(f"ALTER TABLE {self.table} DETACH PARTITION {name}")
            cursor.execute(f"ALTER TABLE {name} SET SCHEMA {schema}")
        return f"{schema}.{name}"

    def drop_before(self, month: date) -> tuple[list[str], int]:
        """Drop every month's partition before ``month`` and delete the default partition's
        rows from before it (the rows are gone: retention, not archiving). Returns the
        partitions dropped and the default partition's rows deleted."""
        old = [p.name for p in self.partitions() if p.month is not None and p.month < month]
        with transaction.atomic(), connection.cursor() as cursor:
            for name in old:
                quoted = connection.ops.quote_name(name)
                cursor.execute(f"ALTER TABLE {self.table} DETACH PARTITION {quoted}")
                cursor.execute(f"DROP TABLE {quoted}")
            cursor.execute(
                f"DELETE FROM {self.default_partition} WHERE {self.column} < %s",  # noqa: S608
                [_bound(month)],
            )
            deleted = cursor.rowcount
        return old, deleted
