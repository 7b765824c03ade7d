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

from .schema import EventKind
from .services import event_input, events_record


def daily_limits_reached(*, learner_id, attempts_by_course: dict, now: datetime) -> list[str]:
    """Record the limits the batch (attempt ids by course id) used up on the learner's day at
    ``now``; returns "course:limit" for each one recorded."""
    from apps.accounts.models import User
    from apps.curriculum.models import Course
    from apps.learning.models import Attempt
    from apps.scheduler.candidates import course_candidates
    from apps.scheduler.models import LearnerAtomState
    from apps.scheduler.selectors import learner_daily_limits, learner_day_start

    learner = User.objects.filter(pk=learner_id).first()
    if learner is None:
        return []
    day, start = learner_day_start(learner, now)
    batch = {uuid.UUID(pk) for ids in attempts_by_course.values() for pk in ids}
    today, in_batch = Counter(), Counter()
    for pk, atom_id in Attempt.objects.filter(
        learner=learner, answered_at__gte=start, archived_in__isnull=True
    ).values_list("pk", "atom_id"):
        today[atom_id] += 1
        in_batch[atom_id] += pk in batch
    if not any(in_batch.values()):
        return []  # the batch was answered on earlier days
    exposures = dict(
        LearnerAtomState.objects.filter(
            learner=learner, atom_id__in=list(today), archived_in__isnull=True
        ).values_list("atom_id", "reviews")
    )
    reached, events = [], []
    for course in Course.objects.filter(pk__in=list(attempts_by_course)):
        atoms = list(today)
        rows = course_candidates(course.pk).rows_of(np.array([a.bytes for a in atoms], dtype="S16"))
        after, fresh = Counter(), Counter()
        for atom_id, row in zip(atoms, rows, strict=True):
            if row < 0:  # another course's atom
                continue
            limit = "new" if exposures.get(atom_id, 0) <= today[atom_id] else "reviews"
            after[limit] += 1
            fresh[limit] += in_batch[atom_id] == today[atom_id]
        per_day = dict(zip(("new", "reviews"), learner_daily_limits(learner, course), strict=True))
        for limit in ("new", "reviews"):
            if after[limit] - fresh[limit] < per_day[limit] <= after[limit]:
                reached.append(f"{course.pk}:{limit}")
                events.append(
                    event_input(
                        EventKind.DAILY_LIMIT_REACHED,
                        learner=learner,
                        course=course,
                        limit=limit,
                        per_day=per_day[limit],
                        day=day,
                    )
                )
    events_record(events)
    return reached
