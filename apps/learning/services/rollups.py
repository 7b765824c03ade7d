"""The per-learner rollups of the attempt log (LearnerDayRollup, LearnerAtomRollup).

They hold the learner's *live* attempts (not set aside by a reset) summed per local day and per
atom, so statistics and progress cost the same whatever the length of the history.

- ``rollups_add`` increments them for attempts just stored, in the attempt's transaction: one
  ``INSERT … ON CONFLICT DO UPDATE SET n = rollup.n + excluded.n`` per table (PostgreSQL and
  SQLite both speak it), so concurrent batches of one learner add up instead of overwriting.
- ``learner_rollups_rebuild`` recomputes a set of learners' rows from the attempt log (after a
  reset or restore, after the legacy backfill, from ``learning_rollups_rebuild``).

On PostgreSQL the two take a per-learner advisory lock: shared when adding (batches of one
learner do not wait for each other), exclusive when rebuilding. A rebuild therefore never reads
the log while a batch that has already counted itself is uncommitted, and a batch that counts
itself after a rebuild adds attempts the rebuild could not see. On SQLite a transaction that
writes holds the database's write lock, and the rebuild deletes before it reads.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate

from ..models import Attempt, LearnerAtomRollup, LearnerDayRollup
from .locks import ROLLUP_SPACE, learner_lock_key


def _lock_key(learner_id) -> int:
    return learner_lock_key(learner_id, ROLLUP_SPACE)


@dataclass(frozen=True)
class RollupsAdded:
    """What ``rollups_add`` read back from its own statement: the local days that had no row
    before (the learner's new practice days: the streak bonuses' check, rewards.py, runs only
    then), and each day's live attempts now, where the day's row is in the learner's zone (the
    daily limits' cheap bound, attempts.py)."""

    new_days: set
    attempts_on: dict


def rollups_add(*, learner, attempts) -> RollupsAdded:
    """Add freshly stored ``attempts`` (all the learner's, live) to the learner's rollups;
    returns what the day rows say now (``RollupsAdded``).

    Precondition: inside the transaction that stored the attempts, as its last writes. Two
    statements, whatever the number of attempts; rows are written in key order so concurrent
    batches cannot deadlock on them. The learner's lock is taken after every other row lock
    of the transaction, and a rebuild (reset, restore) takes it after its own: a batch holding
    the lock waits for nothing but rollup rows, which a rebuild touches only under the lock.
    """
    new_days, day_counts = _rollups_add([(learner, attempts)])
    learner_id = _as_uuid(learner.pk)
    return RollupsAdded(
        new_days=new_days.get(learner_id, set()),
        attempts_on={
            day: attempts_now
            for (pk, day), (attempts_now, zone) in day_counts.items()
            if pk == learner_id and zone == learner.timezone
        },
    )


def rollups_add_many(batches) -> dict:
    """``rollups_add`` for several learners at once: [(learner, their attempts)]. Still two
    statements (three for more than one learner on PostgreSQL: their shared locks first, in
    lock-key order, the order a rebuild takes its exclusive ones in), so the v1 pull's pages of
    many learners cost what one learner's batch does. Returns {learner id: their new days}."""
    return _rollups_add(batches)[0]


def _rollups_add(batches) -> tuple[dict, dict]:
    """({learner id: new days}, {(learner id, day): (attempts now, the row's zone)})."""
    batches = [(learner, attempts) for learner, attempts in batches if attempts]
    if not batches:
        return {}, {}
    day_rows, atom_rows = [], []
    for learner, attempts in sorted(batches, key=lambda batch: str(batch[0].pk)):
        days, atoms = _tallies(learner, attempts)
        day_rows += [(learner.pk, day, learner.timezone, *days[day]) for day in sorted(days)]
        atom_rows += [(learner.pk, atom, *atoms[atom]) for atom in sorted(atoms, key=str)]
    day_table = connection.ops.quote_name(LearnerDayRollup._meta.db_table)
    atom_table = connection.ops.quote_name(LearnerAtomRollup._meta.db_table)
    increments = (
        "attempts = {t}.attempts + excluded.attempts, "
        "correct = {t}.correct + excluded.correct, "
        "time_spent_ms = {t}.time_spent_ms + excluded.time_spent_ms"
    )
    day_source, day_params = _values(day_rows, 6), [_db(v) for row in day_rows for v in row]
    lock_keys = sorted(_lock_key(learner.pk) for learner, _ in batches)
    if connection.vendor == "postgresql" and len(lock_keys) == 1:
        # The learner's shared lock, taken by the same statement (no extra round trip).
        day_source = (
            f"SELECT v.* FROM ({day_source}) AS v "  # noqa: S608 - placeholders only
            "CROSS JOIN (SELECT pg_advisory_xact_lock_shared(%s)) AS held"
        )
        day_params.append(lock_keys[0])
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_advisory_xact_lock_shared(k)) "
                "FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) AS keys",
                [lock_keys],
            )
    # A day counted in another zone (the learner moved) is marked mixed: readers fall back.
    day_sql = (
        f"INSERT INTO {day_table} (learner_id, day, timezone, attempts, correct, time_spent_ms) "
        f"{day_source} ON CONFLICT (learner_id, day) DO UPDATE SET "
        + increments.format(t=day_table)
        + f", timezone = CASE WHEN {day_table}.timezone = excluded.timezone "
        "THEN excluded.timezone ELSE '' END"
        # a row whose count is what this batch added was inserted now: a new practice day
        f" RETURNING {day_table}.learner_id, {day_table}.day, {day_table}.attempts,"
        f" {day_table}.timezone"
    )
    atom_sql = (
        f"INSERT INTO {atom_table} (learner_id, atom_id, attempts, correct, time_spent_ms) "
        f"{_values(atom_rows, 5)} ON CONFLICT (learner_id, atom_id) DO UPDATE SET "
        + increments.format(t=atom_table)
    )
    with connection.cursor() as cursor:
        cursor.execute(day_sql, day_params)
        counted = cursor.fetchall()
        cursor.execute(atom_sql, [_db(v) for row in atom_rows for v in row])
    added = {(_as_uuid(pk), day): row[0] for pk, day, _zone, *row in day_rows}
    new_days: dict = defaultdict(set)
    day_counts = {}
    for pk, day, attempts, zone in counted:
        key = (_as_uuid(pk), day if isinstance(day, date) else date.fromisoformat(str(day)))
        day_counts[key] = (attempts, zone)
        if added.get(key) == attempts:
            new_days[key[0]].add(key[1])
    return new_days, day_counts


def _tallies(learner, attempts) -> tuple[dict, dict]:
    """[attempts, correct, time spent] per local day and per atom."""
    zone = ZoneInfo(learner.timezone)
    days: dict = defaultdict(lambda: [0, 0, 0])
    atoms: dict = defaultdict(lambda: [0, 0, 0])
    for attempt in attempts:
        for tally in (days[attempt.answered_at.astimezone(zone).date()], atoms[attempt.atom_id]):
            tally[0] += 1
            tally[1] += bool(attempt.correct)
            tally[2] += attempt.time_taken_ms or 0
    return days, atoms


def _values(rows: list[tuple], width: int) -> str:
    row = "(" + ", ".join(["%s"] * width) + ")"
    if connection.vendor == "postgresql":  # typed first row, so VALUES in a subquery works
        casts = {6: "(%s::uuid, %s::date, %s, %s::integer, %s::integer, %s::bigint)",
                 5: "(%s::uuid, %s::uuid, %s::integer, %s::integer, %s::bigint)"}  # fmt: skip
        return "VALUES " + ", ".join([casts[width]] + [row] * (len(rows) - 1))
    return "VALUES " + ", ".join([row] * len(rows))


def _db(value):
    """UUIDs as the backend stores them (SQLite keeps them as 32 hex digits)."""
    if hasattr(value, "hex") and hasattr(value, "int"):
        return value if connection.vendor == "postgresql" else value.hex
    return value


def learner_rollups_rebuild(*, learner_ids) -> int:
    """Recompute the rollups of ``learner_ids`` from their live attempts; returns the number of
    day rows written. Safe while those learners answer (see the module docstring)."""
    from apps.accounts.models import User

    learner_ids = sorted({str(pk) for pk in learner_ids})
    if not learner_ids:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k ORDER BY k",
                    [sorted(_lock_key(_as_uuid(pk)) for pk in learner_ids)],
                )
        LearnerDayRollup.objects.filter(learner_id__in=learner_ids).delete()
        LearnerAtomRollup.objects.filter(learner_id__in=learner_ids).delete()
        by_zone: dict = defaultdict(list)
        for pk, zone in User.objects.filter(pk__in=learner_ids).values_list("pk", "timezone"):
            by_zone[zone].append(pk)
        day_rows = []
        for zone, ids in sorted(by_zone.items()):
            day_rows += [
                LearnerDayRollup(timezone=zone, **row)
                for row in _live(ids)
                .annotate(day=TruncDate("answered_at", tzinfo=ZoneInfo(zone)))
                .values("learner_id", "day")
                .annotate(**_SUMS)
                .order_by()
            ]
        atom_groups = _live(learner_ids).values("learner_id", "atom_id").annotate(**_SUMS)
        atom_rows = [LearnerAtomRollup(**row) for row in atom_groups.order_by()]
        LearnerDayRollup.objects.bulk_create(day_rows, batch_size=2000)
        LearnerAtomRollup.objects.bulk_create(atom_rows, batch_size=2000)
    return len(day_rows)


_SUMS = {
    "attempts": Count("id"),
    "correct": Count("id", filter=Q(correct=True)),
    "time_spent_ms": Sum("time_taken_ms", default=0),
}


def _live(learner_ids):
    return Attempt.objects.filter(learner_id__in=learner_ids, archived_in__isnull=True)


def _as_uuid(pk):
    import uuid

    return pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
