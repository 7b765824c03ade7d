"""Mistakes from v2's answers, recorded and cleared inside the attempt's transaction.

A wrong answer records a Mistake: the atom, the attempt, the atom's concept (its first live
one, as the attempt's scheduling policy takes: v1's mistake log named the bit of the card
answered) and the misconception the chosen option names, if any. A mistake is **per atom**: it
stays open until two later correct answers on the same atom (answered after it, not
necessarily in a row), since the atom is what the learner got wrong and its options are what
name the misconception. Each wrong answer is its own mistake, so an atom missed twice needs two
correct answers after the second miss to clear both.

What it costs the attempt request: one INSERT for a request with wrong answers, none for an
all-correct one; one UPDATE when a correct answer meets an open mistake, which the state
read the attempt service already makes tells it (``open_mistakes`` on each locked state).
New and cleared mistakes are announced to the sync port as v1's ``mistake_logs``.
"""

import json
import uuid
from dataclasses import dataclass

from django.db import connection

from apps.core.sync_port import rows_changed

from ..models import Attempt, Mistake

MISTAKES_ENTITY = "mistake_logs"  # v1's contract name (apps/legacy_sync/v1/entities.py)
CLEARED_AFTER = 2  # correct answers on the atom after the mistake
RAW_TEXT_MAX = 1000


@dataclass(frozen=True)
class GradedAnswer:
    attempt: Attempt
    concept_id: uuid.UUID | None  # the atom's first live concept
    records_mistakes: bool  # False in a placement test: it probes, it does not teach


def mistakes_note(*, learner, answers: list[GradedAnswer], open_atoms: set) -> None:
    """Record the wrong ``answers`` as mistakes and count the correct ones towards clearing.
    ``answers`` in answer-time order; ``open_atoms``: atoms with an open mistake of the
    learner's before these answers. Precondition: inside the transaction storing the attempts,
    under the learner's write lock (PostgreSQL) or the database's (SQLite)."""
    correct = [a.attempt for a in answers if a.attempt.correct]
    cleared = _count_towards_clearing(
        learner, [a for a in correct if a.atom_id in open_atoms]
    )  # fmt: skip
    new = [
        _mistake(answer, later_correct=[c for c in correct if c.atom_id == answer.attempt.atom_id
                                        and c.answered_at > answer.attempt.answered_at])
        for answer in answers
        if not answer.attempt.correct and answer.records_mistakes and answer.concept_id
    ]  # fmt: skip
    Mistake.objects.bulk_create(new)
    changed = [m.pk for m in new] + cleared
    rows_changed(entity=MISTAKES_ENTITY, ids=changed)


def _mistake(answer: GradedAnswer, later_correct: list[Attempt]) -> Mistake:
    attempt = answer.attempt
    cleared = len(later_correct) >= CLEARED_AFTER
    return Mistake(
        learner_id=attempt.learner_id,
        concept_id=answer.concept_id,
        atom_id=attempt.atom_id,
        misconception_id=attempt.misconception_id,
        attempt_id=attempt.pk,
        subtype="misconception" if attempt.misconception_id else "wrong_answer",
        raw_text=json.dumps(attempt.response, sort_keys=True)[:RAW_TEXT_MAX],
        occurred_at=attempt.answered_at,
        correct_since=min(len(later_correct), CLEARED_AFTER),
        cleared_at=later_correct[CLEARED_AFTER - 1].answered_at if cleared else None,
    )


def _count_towards_clearing(learner, correct: list[Attempt]) -> list:
    """Add each correct answer to the open mistakes on its atom made before it, and clear the
    ones that reach two (``cleared_at``: the answer that did). One UPDATE; returns the ids of
    the mistakes it cleared."""
    if not correct:
        return []
    table = connection.ops.quote_name(Mistake._meta.db_table)
    postgres = connection.vendor == "postgresql"
    row = "(%s::uuid, %s::timestamptz)" if postgres else "(%s, %s)"
    params = []
    for attempt in correct:
        params += [
            attempt.atom_id if postgres else attempt.atom_id.hex,
            connection.ops.adapt_datetimefield_value(attempt.answered_at),
        ]
    later = "FROM answers v WHERE v.atom_id = m.atom_id AND v.answered_at > m.occurred_at"
    nth_later = f"(SELECT v.answered_at {later} ORDER BY v.answered_at LIMIT 1 OFFSET %s)"
    # SET sees the row as it was: correct_since is the count before these answers (0 or 1)
    sql = (
        f"WITH answers (atom_id, answered_at) AS (VALUES {', '.join([row] * len(correct))}) "  # noqa: S608 - names and placeholders only
        f"UPDATE {table} AS m SET "
        f"correct_since = m.correct_since + (SELECT COUNT(*) {later}), "
        f"cleared_at = CASE WHEN m.correct_since >= 1 THEN {nth_later} ELSE {nth_later} END "
        "WHERE m.learner_id = %s AND m.cleared_at IS NULL AND m.atom_id IS NOT NULL "
        "AND m.archived_in_id IS NULL "
        f"AND EXISTS (SELECT 1 {later}) "
        # unqualified (SQLite wants it so); cleared: the new count reached two
        f"RETURNING id, correct_since >= {CLEARED_AFTER:d}"
    )
    learner_id = learner.pk if postgres else learner.pk.hex
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, 0, CLEARED_AFTER - 1, learner_id])
        return [uuid.UUID(str(pk)) for pk, cleared in cursor.fetchall() if cleared]
