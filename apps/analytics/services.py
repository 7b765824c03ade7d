"""Recording analytics events: after the commit of the action they describe, never before.

The domain services call ``event_record`` / ``events_record`` inside their own transaction.
The event is checked against the schema there (a bad one raises in the caller, a bug), and
its INSERT is registered with ``transaction.on_commit``: a rolled-back transaction, or a
rolled-back savepoint, records nothing, and the action's own transaction runs no statement
more. Each call is one bulk INSERT at the commit; the services make one call per transaction
(a batch of attempts is one call), so an action costs one statement after its commit.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.core.bulk import rows_insert

from .models import AnalyticsEvent
from .schema import EventKind, InvalidEvent, event_payload


@dataclass(frozen=True)
class EventInput:
    kind: str
    payload: dict
    learner_id: object = None
    course_id: object = None
    occurred_at: datetime | None = None  # None: the commit's time


def event_input(
    kind: str, *, learner=None, course=None, occurred_at: datetime | None = None, **payload
) -> EventInput:
    """One event for ``events_record``: ``learner`` and ``course`` are objects or ids."""
    return EventInput(
        kind=kind,
        payload=payload,
        learner_id=getattr(learner, "pk", learner),
        course_id=getattr(course, "pk", course),
        occurred_at=occurred_at,
    )


def event_record(
    kind: str, *, learner=None, course=None, occurred_at: datetime | None = None, **payload
) -> None:
    """Record one event of ``kind`` once the current transaction commits (at once outside
    one). Raises InvalidEvent when it does not fit apps/analytics/schema.py."""
    events_record(
        [event_input(kind, learner=learner, course=course, occurred_at=occurred_at, **payload)]
    )


def events_record(events: Iterable[EventInput]) -> None:
    """Record these events in one INSERT once the current transaction commits.

    ``occurred_at`` left None is the commit's time (one value for the batch; the id orders
    them). Given, it must be aware and should be about now: the export's pages are stable
    only for events recorded within ANALYTICS_EXPORT_SETTLE_S of their ``occurred_at``."""
    rows = []
    for event in events:
        version, payload = event_payload(event.kind, event.payload)
        if event.occurred_at is not None and timezone.is_naive(event.occurred_at):
            raise InvalidEvent(f"{event.kind}: occurred_at must be timezone-aware")
        rows.append(
            AnalyticsEvent(
                kind=event.kind,
                schema_version=version,
                occurred_at=event.occurred_at,
                learner_id=event.learner_id,
                course_id=event.course_id,
                payload=payload,
            )
        )
    if rows:
        # robust: the action is committed whatever happens here; a failed insert (the
        # database gone meanwhile) is logged by Django and loses these events, not the answer.
        transaction.on_commit(lambda: _insert(rows), robust=True)


def _insert(rows: list[AnalyticsEvent]) -> None:
    now = timezone.now()
    for row in rows:
        if row.occurred_at is None:
            row.occurred_at = now
    rows_insert(AnalyticsEvent, rows)  # one statement, without a BEGIN and COMMIT around it


def attempts_recorded(
    *, learner, attempts: list, concepts_of: dict, course_of: dict, now, daily_limits=None
) -> None:
    """The attempt service's one call per stored batch: an ``attempt_recorded`` event per
    attempt (one INSERT after the commit) and, after the commit too, the check for a daily
    limit this batch used up (``limits.py``), in this process: a Celery task per answer cost
    the machine more than the check itself. ``daily_limits``: course id → the learner's (new,
    reviews) per day, which the caller read with its policies; None (the caller knows the
    batch cannot use a limit up: learning's ``_limits_may_change``) skips the check.
    ``concepts_of``: atom id → its live concept ids; ``course_of``: concept id text → course
    id (the grading context's maps). Precondition: inside the transaction that stores
    ``attempts``."""
    if not attempts:
        return
    course_by_atom = {}
    for attempt in attempts:
        concepts = concepts_of.get(attempt.atom_id) or [None]
        course_by_atom[attempt.atom_id] = course_of.get(str(concepts[0]))
    events_record(
        event_input(
            EventKind.ATTEMPT_RECORDED,
            learner=learner,
            course=course_by_atom[a.atom_id],
            attempt=a.pk,
            atom=a.atom_id,
            session=a.session_id,
            correct=a.correct,
            score=a.score,
            quality=a.quality,
            time_taken_ms=a.time_taken_ms,
            answered_at=a.answered_at,
        )
        for a in attempts
    )
    by_course: dict[str, list[str]] = {}
    for attempt in attempts:
        if (course_id := course_by_atom[attempt.atom_id]) is not None:
            by_course.setdefault(str(course_id), []).append(str(attempt.pk))
    if by_course and daily_limits is not None:
        from .limits import daily_limits_reached

        # robust, like the events' INSERT: the answer is committed whatever happens here.
        transaction.on_commit(
            lambda: daily_limits_reached(
                learner_id=learner.pk,
                attempts_by_course=by_course,
                now=now,
                learner=learner,
                per_day_by_course=daily_limits,
            ),
            robust=True,
        )
