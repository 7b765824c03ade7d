"""Which daily limit a batch of attempts used up (issue 20's limits: new atoms and reviews
per learner day in a course, apps/scheduler/selectors.py ``DailyLimits``).

Emitted by the write that reaches the limit, never by GET /scheduler/next/ (no GET writes):
after the attempts' commit, the day's counts are taken with and without the batch. An atom
is *new* today when every answer it has is today's (its state counts them all), a *review*
otherwise; leaving the batch out never changes that class, it only leaves out the atoms
whose every answer today is in the batch. So "before" is "after" minus those atoms, and the
event is recorded when before < limit <= after: once per limit and day, by the batch that
crossed it. Two batches of one learner committing at the same moment could each see the
other's rows (the check runs after both commits); the learner's write lock serialises
their commits on PostgreSQL, and a queued check runs at once in the embedded setup.
"""

import uuid
from collections import Counter
from datetime import datetime

import numpy as np
from django.db import connection

from apps.core.raw_sql import field_value, in_list

from .schema import EventKind
from .services import event_input, events_record


def daily_limits_reached(
    *, learner_id, attempts_by_course: dict, now: datetime, learner=None, per_day_by_course=None
) -> list[str]:
    """Record the limits the batch (attempt ids by course id) used up on the learner's day at
    ``now``; returns "course:limit" for each one recorded. The attempt service passes the
    ``learner`` it holds and each course's (new, reviews) limits for them (read with its
    policies), so the check is one statement; a queued task passes ids only."""
    from apps.accounts.models import User
    from apps.curriculum.models import Course
    from apps.scheduler.candidates import course_candidates
    from apps.scheduler.selectors import learner_daily_limits, learner_day_start

    learner = learner or User.objects.filter(pk=learner_id).first()
    if learner is None:
        return []
    day, start = learner_day_start(learner, now)
    batch = {uuid.UUID(str(pk)) for ids in attempts_by_course.values() for pk in ids}
    today, in_batch, exposures = _answered_today(learner, start, batch)
    if not any(in_batch.values()):
        return []  # the batch was answered on earlier days
    if per_day_by_course is None:
        per_day_by_course = {
            course.pk: learner_daily_limits(learner, course)
            for course in Course.objects.filter(pk__in=list(attempts_by_course))
        }
    per_day_by_course = {str(pk): limits for pk, limits in per_day_by_course.items()}
    reached, events = [], []
    atoms = list(today)
    keys = np.array([a.bytes for a in atoms], dtype="S16")
    for course_id in attempts_by_course:
        if (limits := per_day_by_course.get(str(course_id))) is None:
            continue  # a course gone meanwhile
        course_id = uuid.UUID(str(course_id))  # as next items keys the candidates
        rows = course_candidates(course_id).rows_of(keys)
        after, fresh = Counter(), Counter()
        for atom_id, row in zip(atoms, rows, strict=True):
            if row < 0:  # another course's atom
                continue
            limit = "new" if exposures.get(atom_id, 0) <= today[atom_id] else "reviews"
            after[limit] += 1
            fresh[limit] += in_batch[atom_id] == today[atom_id]
        per_day = dict(zip(("new", "reviews"), limits, strict=True))
        for limit in ("new", "reviews"):
            if after[limit] - fresh[limit] < per_day[limit] <= after[limit]:
                reached.append(f"{course_id}:{limit}")
                events.append(
                    event_input(
                        EventKind.DAILY_LIMIT_REACHED,
                        learner=learner,
                        course=course_id,
                        limit=limit,
                        per_day=per_day[limit],
                        day=day,
                    )
                )
    events_record(events)
    return reached


def _answered_today(learner, start: datetime, batch: set) -> tuple[Counter, Counter, dict]:
    """Per atom the learner answered since ``start``: answers since then, how many of them
    are in ``batch``, and the atom's answers in all (its state's reviews): one statement."""
    from apps.learning.models import Attempt

    today, in_batch, exposures = Counter(), Counter(), {}
    if not batch:
        return today, in_batch, exposures
    batch_sql, batch_ids = in_list(Attempt, "id", batch)
    learner_id = field_value(Attempt, "learner", learner.pk)
    # Written out (apps/core/raw_sql.py): the ORM took longer to compile it than to run it.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.atom_id, COUNT(*),"  # noqa: S608 - placeholders only
            f" SUM(CASE WHEN a.id IN {batch_sql} THEN 1 ELSE 0 END),"
            " (SELECT s.reviews FROM scheduler_learneratomstate s WHERE s.learner_id = %s"
            " AND s.atom_id = a.atom_id AND s.archived_in_id IS NULL LIMIT 1)"
            " FROM learning_attempt a WHERE a.learner_id = %s AND a.answered_at >= %s"
            " AND a.archived_in_id IS NULL GROUP BY a.atom_id",
            [*batch_ids, learner_id, learner_id, field_value(Attempt, "answered_at", start)],
        )
        rows = cursor.fetchall()
    atom_field = Attempt._meta.get_field("atom").target_field
    for atom_id, answers, batch_answers, reviews_in_all in rows:
        atom_id = atom_field.to_python(atom_id)  # text on SQLite
        today[atom_id], in_batch[atom_id] = answers, batch_answers
        if reviews_in_all is not None:
            exposures[atom_id] = reviews_in_all
    return today, in_batch, exposures
