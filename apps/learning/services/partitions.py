"""Monthly partitions of the attempt log on PostgreSQL.

``learning_attempt`` is range-partitioned on ``answered_at`` (migration 0006): one partition
per calendar month in UTC, named ``learning_attempt_yYYYYmMM``, and a default partition that
catches any row no month covers (a client clock far off, a v1 row from before the range).
Indexes live on the parent and so exist on every partition.

- ``attempt_partitions_ensure`` creates the months missing in a range (the beat task keeps the
  coming months ready, the backfill asks for v1's range). A month that already has rows in the
  default partition gets them moved into its new partition in the same transaction.
- ``attempt_partition_detach`` detaches an old month into an archive schema, and refuses while
  the data-sync adapter says reconciliation has not covered that month.

A unique index on a partitioned table must include the partition key, so (learner, client id)
is unique per month in the database; across months the attempt service's learner write lock
keeps it unique (``learner_write_lock``). SQLite keeps one plain table and its plain unique
constraint; every function here is a no-op there, or says why it cannot run.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection, transaction
from django.utils import timezone

from apps.core import sync_port

TABLE = "learning_attempt"
DEFAULT_PARTITION = f"{TABLE}_default"
ARCHIVE_SCHEMA = "attempts_archive"
_CREATE_LOCK = 0x41747450  # "AttP": one partition creation at a time
_NAME = re.compile(rf"^{TABLE}_y(\d{{4}})m(\d{{2}})$")


class PartitionError(Exception):
    """A partition operation refused, with a message for the operator."""


@dataclass(frozen=True)
class Partition:
    name: str
    month: date | None  # None: the default partition
    rows: int  # the planner's estimate (exact counts would scan every month)
    bytes: int


def partitioned() -> bool:
    """Whether the attempt log is partitioned here (PostgreSQL after migration 0006)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def month_start(value: date | datetime) -> date:
    """The first day of ``value``'s month (in UTC, for an aware datetime)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return date(value.year, value.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"{TABLE}_y{month.year:04d}m{month.month:02d}"


def attempt_partitions() -> list[Partition]:
    """The attached partitions, months in order, then the default one."""
    if not partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, greatest(c.reltuples, 0)::bigint, pg_total_relation_size(c.oid) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
        rows = cursor.fetchall()
    found = []
    for name, estimate, size in rows:
        match = _NAME.match(name)
        month = date(int(match[1]), int(match[2]), 1) if match else None
        found.append(Partition(name, month, estimate, size))
    return sorted(found, key=lambda p: (p.month is None, p.month or date.min))


def attempt_partitions_ensure(*, since: date, through: date) -> list[str]:
    """Create a partition for each month from ``since``'s to ``through``'s (inclusive) that has
    none; returns the names created. Idempotent; a no-op where the log is not partitioned."""
    months, month, last = [], month_start(since), month_start(through)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return attempt_partitions_ensure_months(months)


def attempt_partitions_ensure_months(months) -> list[str]:
    """Create the partitions missing among ``months`` (the backfill's: only the months its
    rows fall in, so one stray date does not create decades of empty ones)."""
    if not partitioned():
        return []
    wanted = sorted({month_start(m) for m in months} - {p.month for p in attempt_partitions()})
    return [name for name in map(_partition_create, wanted) if name]


def attempt_partitions_ensure_ahead(*, months: int, now: datetime | None = None) -> list[str]:
    """Keep the current month and the ``months`` after it ready (the beat task's call)."""
    this_month = month_start((now or timezone.now()).astimezone(UTC))
    through = this_month
    for _ in range(months):
        through = next_month(through)
    return attempt_partitions_ensure(since=this_month, through=through)


def _instant(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def _bound(month: date) -> str:
    return f"{month.isoformat()} 00:00:00+00"


def _partition_create(month: date) -> str | None:
    """Create ``month``'s partition, moving in any rows of that month the default partition
    holds (attaching a range the default partition has rows in would fail). Returns its name,
    or None when someone else created it first (backfill workers race for new months)."""
    name = connection.ops.quote_name(partition_name(month))
    low, high = _bound(month), _bound(next_month(month))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CREATE_LOCK])
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [partition_name(month)])
        if cursor.fetchone()[0]:
            return None
        cursor.execute(
            f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        # The names are ours; the bounds are parameters.
        move = (
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} "  # noqa: S608
            "WHERE answered_at >= %s AND answered_at < %s RETURNING *) "
            f"INSERT INTO {name} SELECT * FROM moved"
        )
        cursor.execute(
            move,
            [low, high],
        )
        cursor.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
            [low, high],
        )
    return partition_name(month)


def attempt_partition_detach(*, month: date, now: datetime | None = None) -> str:
    """Detach ``month``'s partition into the archive schema; returns its archived name.

    Refuses the current month and later ones, a month without a partition, and a month the
    data-sync adapter has not reconciled yet (its rows must be known equal on both sides
    before they leave the live table). The rows stay queryable in the archive schema, and the
    learners' statistics rollups keep counting them."""
    if not partitioned():
        raise PartitionError(
            "The attempt log is not partitioned here: partitions exist only on PostgreSQL."
        )
    month = month_start(month)
    this_month = month_start((now or timezone.now()).astimezone(UTC))
    if month >= this_month:
        raise PartitionError(
            f"{month:%Y-%m} is not over yet: only months before {this_month:%Y-%m} can be detached."
        )
    if month not in {p.month for p in attempt_partitions()}:
        raise PartitionError(f"There is no attached partition for {month:%Y-%m}.")
    refusal = sync_port.attempt_month_archive_refusal(_instant(month), _instant(next_month(month)))
    if refusal:
        raise PartitionError(f"{month:%Y-%m} cannot be detached: {refusal}")
    name = partition_name(month)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {ARCHIVE_SCHEMA}")
        cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
        cursor.execute(f"ALTER TABLE {name} SET SCHEMA {ARCHIVE_SCHEMA}")
    return f"{ARCHIVE_SCHEMA}.{name}"
