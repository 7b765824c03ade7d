"""Per-learner advisory locks on PostgreSQL (SQLite serializes every writer already).

- The **write lock** (exclusive) is taken first by every transaction that writes a learner's
  attempts or sets their progress aside: attempt ingestion, reset, restore. Attempts are
  partitioned by month, so no unique index spans (learner, client attempt id); under this lock
  the ingest's look-up of the ids already used is final. It also fixes one order between a
  reset or restore and a batch of answers, which otherwise locked the learner's atom states
  in opposite orders and could deadlock.
- The **rollup lock** (``rollups.py``) is a second key space: shared while adding, exclusive
  while rebuilding.
"""

from django.db import connection

_WRITE_SPACE = 0x57726974  # "Writ"
ROLLUP_SPACE = 0x526F6C6C  # "Roll"


def learner_lock_key(learner_id, space: int) -> int:
    """A signed 64-bit advisory lock key for the learner in ``space`` (collisions only
    serialize)."""
    raw = learner_id.int if hasattr(learner_id, "int") else hash(str(learner_id))
    return ((raw ^ space) & 0xFFFFFFFFFFFFFFFF) - (1 << 63)


def learner_write_lock(learner_id) -> None:
    """Hold the learner's write lock until the transaction ends. Precondition: inside one."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [learner_lock_key(learner_id, _WRITE_SPACE)]
        )


def learners_write_lock(learner_ids) -> None:
    """Several learners' write locks in one statement, in lock-key order (every taker of more
    than one uses that order, so two of them cannot wait on each other in a cycle)."""
    if connection.vendor != "postgresql" or not learner_ids:
        return
    keys = sorted({learner_lock_key(pk, _WRITE_SPACE) for pk in learner_ids})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(k)) "
            "FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) AS keys",
            [keys],
        )
