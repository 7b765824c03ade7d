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

from datetime import UTC, date, datetime

from django.utils import timezone

from apps.core import sync_port
from apps.core.partitions import (
    MonthlyPartitions,
    Partition,
    PartitionError,
    month_instant,
    month_start,
    next_month,
)

__all__ = [
    "ARCHIVE_SCHEMA",
    "DEFAULT_PARTITION",
    "TABLE",
    "Partition",
    "PartitionError",
    "attempt_partition_detach",
    "attempt_partitions",
    "attempt_partitions_ensure",
    "attempt_partitions_ensure_ahead",
    "attempt_partitions_ensure_months",
    "month_start",
    "next_month",
    "partition_name",
    "partitioned",
]

ATTEMPTS = MonthlyPartitions(
    table="learning_attempt",
    column="answered_at",
    create_lock=0x41747450,  # "AttP": one partition creation at a time
)
TABLE = ATTEMPTS.table
DEFAULT_PARTITION = ATTEMPTS.default_partition
ARCHIVE_SCHEMA = "attempts_archive"


def partitioned() -> bool:
    """Whether the attempt log is partitioned here (PostgreSQL after migration 0006)."""
    return ATTEMPTS.partitioned()


def partition_name(month: date) -> str:
    return ATTEMPTS.partition_name(month)


def attempt_partitions() -> list[Partition]:
    """The attached partitions, months in order, then the default one."""
    return ATTEMPTS.partitions()


def attempt_partitions_ensure(*, since: date, through: date) -> list[str]:
    """Create a partition for each month from ``since``'s to ``through``'s (inclusive) that has
    none; returns the names created. Idempotent; a no-op where the log is not partitioned."""
    return ATTEMPTS.ensure(since=since, through=through)


def attempt_partitions_ensure_months(months) -> list[str]:
    """Create the partitions missing among ``months`` (the backfill's: only the months its
    rows fall in, so one stray date does not create decades of empty ones)."""
    return ATTEMPTS.ensure_months(months)


def attempt_partitions_ensure_ahead(*, months: int, now: datetime | None = None) -> list[str]:
    """Keep the current month and the ``months`` after it ready (the beat task's call)."""
    return ATTEMPTS.ensure_ahead(months=months, now=now)


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
    refusal = sync_port.attempt_month_archive_refusal(
        month_instant(month), month_instant(next_month(month))
    )
    if refusal:
        raise PartitionError(f"{month:%Y-%m} cannot be detached: {refusal}")
    return ATTEMPTS.detach(month=month, schema=ARCHIVE_SCHEMA)
