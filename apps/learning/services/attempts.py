"""Idempotent attempt ingestion, live (one row) and offline (a batch of up to 500).

Both go through ``attempts_ingest``: rows are graded on the server against the atom's published
revision, applied in answer-time order, and stored with bulk inserts. (learner,
client_attempt_id) decides duplicates, including two requests racing each other: on SQLite its
unique constraint; on PostgreSQL, where attempts are partitioned by month and a unique index
covers one month only, the learner's write lock (``locks.py``) held across look-up and insert.
"""

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.analytics.services import attempts_recorded
from apps.content.atom_types import AtomValidationError, get_atom_type
from apps.content.selectors import revision_atom_snapshot
from apps.core.bulk import rows_update
from apps.core.raw_sql import field_value, for_update, in_list
from apps.core.signals import learner_figures_changed_on_commit
from apps.core.storable import unstorable_text
from apps.core.sync_port import rows_changed
from apps.curriculum.models import Course
from apps.curriculum.structure import course_graph
from apps.experiments.policy import ARM_FIELDS, arm_from_row, arm_may_apply, courses_with_arm
from apps.scheduler.models import LearnerAtomState
from apps.scheduler.selectors import daily_limits_of, learner_day_start
from apps.scheduler.services import (
    atom_state_rebuild,
    concept_states_update,
    course_scheduling_policy,
    review_plan,
)

from ..models import Attempt, SessionKind, StudySession, XPEvent, XPReason
from .client_clock import client_time_problem
from .grading_context import grading_context
from .locks import learner_write_lock
from .mistakes import GradedAnswer, mistakes_note
from .rewards import concepts_mastered, rewards_grant
from .rollups import rollups_add

XP_PER_CORRECT_ANSWER = 10


@dataclass
class AttemptInput:
    client_attempt_id: uuid.UUID
    atom_id: uuid.UUID
    response: Any
    time_taken_ms: int = 0
    session_id: uuid.UUID | None = None
    answered_at: datetime | None = None
    confidence: float | None = None
    hints_used: int = 0

    def fingerprint(self, answered_at: datetime | None = None) -> str:
        """What must match for a replay to count as the same attempt. ``answered_at`` counts
        only when the client sent one (else the server's clock stamped it)."""
        return json.dumps(
            [
                str(self.atom_id),
                self.response,
                str(self.session_id or ""),
                self.time_taken_ms,
                self.confidence,
                self.hints_used,
                (self.answered_at or answered_at).isoformat() if self.answered_at else None,
            ],
            sort_keys=True,
            default=str,
        )


@dataclass
class AttemptOutcome:
    """``created`` (201), ``replayed`` (200, the original result), ``conflict`` (409: same id,
    different payload) or ``invalid`` (400/404, with ``errors``)."""

    status: str
    attempt: Attempt | None = None
    errors: dict = field(default_factory=dict)
    code: str = ""


def _same_attempt(attempt: Attempt, item: AttemptInput) -> bool:
    stored = AttemptInput(
        client_attempt_id=attempt.client_attempt_id,
        atom_id=attempt.atom_id,
        response=attempt.response,
        time_taken_ms=attempt.time_taken_ms,
        session_id=attempt.session_id,
        answered_at=attempt.answered_at if item.answered_at else None,
        confidence=attempt.confidence,
        hints_used=attempt.hints_used,
    )
    return stored.fingerprint() == item.fingerprint()


def attempt_quality(atom_type: str, response: Any, correct: bool, score: float) -> int:
    """0–5 for the scheduler: the learner's own rating for flashcards, else from the score."""
    if atom_type == "flashcard":
        return int(response["quality"])
    if correct:
        return 5 if score >= 1.0 else 4
    return 2 if score >= 0.5 else (1 if score > 0 else 0)


def attempts_ingest(*, learner, inputs: list[AttemptInput], now: datetime | None = None):
    """Grade and store attempts; returns one AttemptOutcome per input, in input order."""
    if connection.vendor != "postgresql":
        # SQLite: the unique constraint on (learner, client id) decides a race (below).
        return _ingest(learner, inputs, now or timezone.now())
    # PostgreSQL: attempts are partitioned by month and no unique index spans the months, so
    # the learner's write lock makes the look-up of used ids, and what is stored, one step.
    with transaction.atomic():
        learner_write_lock(learner.pk)
        return _ingest(learner, inputs, now or timezone.now())


def _ingest(learner, inputs: list[AttemptInput], now: datetime):
    outcomes: list[AttemptOutcome | None] = [None] * len(inputs)
    existing = _attempts_of(learner, {i.client_attempt_id for i in inputs})
    # Replays need neither atoms nor sessions (an all-replay request runs one statement).
    pending = [i for i in inputs if i.client_attempt_id not in existing]
    atoms, links = grading_context({i.atom_id for i in pending})
    context = _scheduling_context(links, learner)
    sessions = _live_sessions(learner, {i.session_id for i in pending if i.session_id})
    placements = frozenset(pk for pk, kind in sessions.items() if kind == SessionKind.PLACEMENT)
    context = replace(context, placement_sessions=placements)
    fresh: list[tuple[int, AttemptInput]] = []
    first_of: dict[uuid.UUID, int] = {}
    twins: list[tuple[int, AttemptInput]] = []
    for position, item in enumerate(inputs):
        if item.client_attempt_id in existing:
            outcomes[position] = _replay(existing[item.client_attempt_id], item)
        elif item.client_attempt_id in first_of:
            twins.append((position, item))  # decided by what happens to the first copy
        else:
            errors = _row_errors(item, atoms, sessions, now)
            if errors:
                outcomes[position] = AttemptOutcome("invalid", errors=errors[0], code=errors[1])
            else:
                first_of[item.client_attempt_id] = position
                fresh.append((position, item))
    # Apply in answer-time order, so scheduler state matches a live arrival order.
    fresh.sort(key=lambda pair: (pair[1].answered_at or now, pair[0]))
    if connection.vendor == "postgresql":
        # Under the learner's write lock no other request can store these ids meanwhile:
        # no savepoint, and no retry.
        _store(learner, fresh, atoms, now, outcomes, context, savepoint=False)
        return _twins_settled(outcomes, twins, first_of)
    try:
        _store(learner, fresh, atoms, now, outcomes, context)
    except IntegrityError:
        # A concurrent request stored one of these ids first: redo row by row, letting the
        # unique constraint decide each one.
        for position, item in fresh:
            try:
                _store(learner, [(position, item)], atoms, now, outcomes, context)
            except IntegrityError:
                winner = Attempt.objects.get(
                    learner=learner, client_attempt_id=item.client_attempt_id
                )
                outcomes[position] = _replay(winner, item)
    return _twins_settled(outcomes, twins, first_of)


# The reads below are written out in SQL (apps/core/raw_sql.py): the ORM took longer to
# compile each than the database took to answer it.


def _attempts_of(learner, client_attempt_ids) -> dict:
    """{client attempt id: the learner's attempt stored under it}, for ``client_attempt_ids``."""
    if not client_attempt_ids:
        return {}
    ids_sql, ids = in_list(Attempt, "client_attempt_id", client_attempt_ids)
    attempts = Attempt.objects.raw(
        "SELECT * FROM learning_attempt "  # noqa: S608 - placeholders only
        f"WHERE learner_id = %s AND client_attempt_id IN {ids_sql}",
        [field_value(Attempt, "learner", learner.pk), *ids],
    )
    return {attempt.client_attempt_id: attempt for attempt in attempts}


def _live_sessions(learner, session_ids) -> dict:
    """{session id: kind} of the learner's sessions among ``session_ids``; a session set aside
    by a reset takes no new answers."""
    if not session_ids:
        return {}
    ids_sql, ids = in_list(StudySession, "id", session_ids)
    sessions = StudySession.objects.raw(
        "SELECT id, kind FROM learning_studysession "  # noqa: S608 - placeholders only
        f"WHERE learner_id = %s AND id IN {ids_sql} AND archived_in_id IS NULL",
        [field_value(StudySession, "learner", learner.pk), *ids],
    )
    return {session.pk: session.kind for session in sessions}


def _states_locked(learner, atom_ids) -> dict:
    """{atom id: the learner's live state}, locked in pk order so concurrent answers on one
    atom apply one after the other. Each carries ``open_mistakes``, whether the atom has an
    open mistake (riding on this read: only then does a correct answer cost the mistakes'
    UPDATE)."""
    ids_sql, ids = in_list(LearnerAtomState, "atom", atom_ids)
    states = LearnerAtomState.objects.raw(
        "SELECT s.*, EXISTS (SELECT 1 FROM learning_mistake m WHERE m.learner_id = s.learner_id"  # noqa: S608
        " AND m.atom_id = s.atom_id AND m.cleared_at IS NULL AND m.archived_in_id IS NULL)"
        " AS open_mistakes FROM scheduler_learneratomstate s WHERE s.learner_id = %s"
        f" AND s.atom_id IN {ids_sql} AND s.archived_in_id IS NULL ORDER BY s.id{for_update()}",
        [field_value(LearnerAtomState, "learner", learner.pk), *ids],
    )
    return {state.atom_id: state for state in states}


def _twins_settled(outcomes, twins, first_of) -> list:
    """A copy of an id earlier in the same request gets what its first copy got."""
    for position, item in twins:
        first = outcomes[first_of[item.client_attempt_id]]
        if first.attempt is None:  # the first copy was rejected: so is this one
            outcomes[position] = AttemptOutcome(first.status, errors=first.errors, code=first.code)
        else:
            outcomes[position] = _replay(first.attempt, item)
    return outcomes


def _replay(attempt: Attempt, item: AttemptInput) -> AttemptOutcome:
    if _same_attempt(attempt, item):
        return AttemptOutcome("replayed", attempt)
    return AttemptOutcome(
        "conflict",
        attempt,
        errors={"client_attempt_id": ["Already used for a different attempt."]},
        code="conflict",
    )


def _row_errors(item: AttemptInput, atoms: dict, sessions: dict, now: datetime):
    if problem := unstorable_text(item.response):  # no real answer contains one
        return {"response": [f"Contains {problem}."]}, "validation_error"
    if item.atom_id not in atoms:
        return {"atom": [f"No published atom {item.atom_id}."]}, "not_found"
    if item.session_id and item.session_id not in sessions:
        return {"session": [f"No session {item.session_id} of yours."]}, "not_found"
    if item.answered_at is not None:
        problem = client_time_problem(item.answered_at, now=now)
        if problem:
            return {"answered_at": [problem]}, "validation_error"
    return None


@dataclass(frozen=True)
class _SchedulingContext:
    policies: dict  # atom id → its course's scheduling policy
    concepts_of: dict  # atom id → its live concept ids
    course_of: dict  # concept id text → its course id
    thresholds: dict  # concept id text → its course's mastery threshold (rewards)
    daily_limits: dict = field(default_factory=dict)  # course id → the learner's (new, reviews)
    placement_sessions: frozenset = frozenset()  # their wrong answers record no mistakes


def _scheduling_context(links: dict, learner) -> _SchedulingContext:
    """Per atom: the scheduling policy of its course (for the learner's calendar) and its live
    concepts; and each concept's course. Policies are read fresh: the course admin edits them
    in place (one narrow query). A learner assigned to an experiment arm in a course is
    scheduled by the arm there while it runs: the arm rides on the same query."""
    course_ids = {course_id for atom_links in links.values() for _, course_id in atom_links}
    of_course, threshold_of = {}, {}  # the mastery thresholds ride along, for rewards
    daily_limits = {}  # and the daily limits, for the limits check (and its bound)
    for (
        course_id, algorithm, retention, max_days, threshold, new_per_day, reviews_per_day, *arm
    ) in _course_rows(course_ids, learner):  # fmt: skip
        daily_limits[course_id] = daily_limits_of(learner, new_per_day, reviews_per_day)
        if (assigned := arm_from_row(*arm)) is not None:  # experiments: the arm's policy
            algorithm, retention, max_days = assigned.applied(algorithm, retention, max_days)
        of_course[course_id] = course_scheduling_policy(
            course_id=course_id,
            algorithm=algorithm,
            desired_retention=retention,
            maximum_interval_days=max_days,
            timezone=learner.timezone,
        )
        threshold_of[course_id] = threshold
    policies, concepts_of, course_of = {}, {}, {}
    for atom_id, atom_links in links.items():
        if atom_links:  # the first concept's course, as before: links come in concept order
            policies[atom_id] = of_course[atom_links[0][1]]
        concepts_of[atom_id] = [concept_id for concept_id, _ in atom_links]
        course_of |= {str(concept_id): course_id for concept_id, course_id in atom_links}
    thresholds = {concept: threshold_of[course] for concept, course in course_of.items()}
    return _SchedulingContext(policies, concepts_of, course_of, thresholds, daily_limits)


_COURSE_FIELDS = (
    "pk", "default_algorithm", "desired_retention", "maximum_interval_days",
    "mastery_threshold", "new_per_day", "reviews_per_day",
)  # fmt: skip


def _course_rows(course_ids, learner) -> list[tuple]:
    """Each course's ``_COURSE_FIELDS`` and the learner's arm there (``ARM_FIELDS``). While no
    experiment can apply, from the courses kept per process (apps/curriculum/structure.py: no
    statement); else one read, the arm folded in."""
    now = timezone.now()
    if not arm_may_apply(now):
        kept = [course_graph(course_id).course for course_id in course_ids]
        return [
            (*(getattr(c, name) for name in _COURSE_FIELDS), *(None for _ in ARM_FIELDS))
            for c in kept
            if c is not None
        ]
    courses = courses_with_arm(Course.objects.filter(pk__in=course_ids), learner_id=learner.pk,
                               now=now)  # fmt: skip
    return list(courses.values_list(*_COURSE_FIELDS, *ARM_FIELDS))


def _limits_may_change(learner, attempts, day_start, answered_today, added, context, now):
    """Could this batch use a daily limit up (so the after-commit check must run)? Not when no
    atom of it is new on the learner's day (no count moves), nor when the day's answers so far
    are fewer than the smallest limit: every count is of distinct atoms answered that day. The
    day's answers come from the day rollup the batch just added to (no statement), when the
    scheduler's day lies within that calendar day (past its start hour) and the row is in the
    learner's zone; else the check runs."""
    if not any(a.answered_at >= day_start and a.atom_id not in answered_today for a in attempts):
        return False
    today = now.astimezone(ZoneInfo(learner.timezone)).date()
    answers_today = added.attempts_on.get(today) if day_start.date() == today else None
    smallest = min((n for limits in context.daily_limits.values() for n in limits), default=None)
    return answers_today is None or smallest is None or answers_today >= smallest


def _store(learner, rows, atoms, now, outcomes, context, savepoint=True) -> list[Attempt]:
    """Grade ``rows`` (already in answer order) and store them in one transaction."""
    if not rows:
        return []
    with transaction.atomic(savepoint=savepoint):
        return _store_locked(learner, rows, atoms, now, outcomes, context)


def _store_locked(learner, rows, atoms, now, outcomes, context) -> list[Attempt]:
    """Precondition: inside a transaction."""
    states = _states_locked(learner, {i.atom_id for _, i in rows})
    open_atoms = {atom_id for atom_id, s in states.items() if s.open_mistakes}
    # Daily limits count atoms answered on the learner's day: only an atom not answered yet
    # today can move those counts (and the after-commit check is skipped otherwise).
    day_start = learner_day_start(learner, now)[1]
    answered_today = {
        atom_id
        for atom_id, state in states.items()
        if state.last_reviewed_at is not None and state.last_reviewed_at >= day_start
    }
    new_attempts, new_xp, rebuild, touched, observations = [], [], set(), {}, []
    graded, answers = [], []
    for position, item in rows:
        atom = atoms[item.atom_id]
        revision = atom.published_revision
        kind = get_atom_type(revision.snapshot["atom_type"])
        try:
            result = kind.grade_response(revision_atom_snapshot(revision), item.response)
        except AtomValidationError as exc:
            outcomes[position] = AttemptOutcome(
                "invalid", errors=exc.errors, code="validation_error"
            )
            continue
        answered_at = item.answered_at or now
        quality = attempt_quality(kind.key, item.response, result.correct, result.score)
        state = touched.get(atom.pk) or states.get(atom.pk)
        if state and state.last_reviewed_at and answered_at < state.last_reviewed_at:
            rebuild.add(atom.pk)  # arrived late: replay the atom's history after storing
        plan = review_plan(state, quality, answered_at, context.policies.get(atom.pk))
        observations += [
            (concept_id, result.correct, atom.irt_a, atom.irt_b, atom.irt_c, answered_at)
            for concept_id in context.concepts_of.get(atom.pk, [])
        ]
        state = state or LearnerAtomState(learner=learner, atom=atom)
        state.state, state.due_at = plan.after, plan.due_at
        state.last_reviewed_at = max(filter(None, [state.last_reviewed_at, answered_at]))
        state.reviews += 1
        state.lapses += quality < 3
        touched[atom.pk] = state
        attempt = Attempt(
            learner=learner,
            atom=atom,
            revision=revision,
            session_id=item.session_id,
            client_attempt_id=item.client_attempt_id,
            response=item.response,
            correct=result.correct,
            score=result.score,
            quality=quality,
            confidence=item.confidence,
            time_taken_ms=item.time_taken_ms,
            hints_used=item.hints_used,
            selected_options=list(result.selected_option_indexes),
            misconception_id=result.misconception_id,
            feedback=result.feedback,
            scheduler_state_before=plan.before,
            scheduler_state_after=plan.after,
            answered_at=answered_at,
        )
        new_attempts.append(attempt)
        graded.append((position, attempt))
        concepts = context.concepts_of.get(atom.pk)
        answers.append(
            GradedAnswer(
                attempt,
                concept_id=concepts[0] if concepts else None,
                records_mistakes=item.session_id not in context.placement_sessions,
            )
        )
        if result.score > 0:
            new_xp.append(
                XPEvent(
                    learner=learner,
                    amount=round(XP_PER_CORRECT_ANSWER * result.score),
                    reason=XPReason.ATTEMPT,
                    attempt=attempt,
                    occurred_at=answered_at,
                )
            )
    Attempt.objects.bulk_create(new_attempts)
    XPEvent.objects.bulk_create(new_xp)
    rows_changed(entity="attempts", ids=[a.pk for a in new_attempts])
    rows_changed(entity="points", ids=[x.pk for x in new_xp])
    mistakes_note(learner=learner, answers=answers, open_atoms=open_atoms)
    to_create = [s for s in touched.values() if s.pk is None]
    to_update = [s for s in touched.values() if s.pk is not None]
    LearnerAtomState.objects.bulk_create(to_create)
    rows_update(
        LearnerAtomState, to_update, ["state", "due_at", "last_reviewed_at", "reviews", "lapses"]
    )
    concept_changes = concept_states_update(
        learner=learner, observations=observations, course_of=context.course_of
    )
    if rebuild:
        for atom_id in rebuild:
            atom_state_rebuild(
                learner=learner, atom_id=atom_id, policy=context.policies.get(atom_id)
            )
        # The rebuild rewrote late rows' before/after states; answer with the corrected ones.
        late = [a for a in new_attempts if a.atom_id in rebuild]
        corrected = {
            pk: (before, after)
            for pk, before, after in Attempt.objects.filter(
                pk__in=[a.pk for a in late]
            ).values_list("pk", "scheduler_state_before", "scheduler_state_after")
        }
        for attempt in late:
            attempt.scheduler_state_before, attempt.scheduler_state_after = corrected[attempt.pk]
    # It takes the learner's rollup lock, which must come after every row lock above.
    added = rollups_add(learner=learner, attempts=new_attempts)
    new_days = added.new_days
    # one analytics INSERT for the batch, after the commit (none in this transaction)
    limits_may_change = _limits_may_change(
        learner, new_attempts, day_start, answered_today, added, context, now
    )
    attempts_recorded(learner=learner, attempts=new_attempts, concepts_of=context.concepts_of,
                      course_of=context.course_of, now=now,
                      daily_limits=context.daily_limits if limits_may_change else None)  # fmt: skip
    # Streak and mastery bonuses, once each (rewards.py: their unique keys); the learner's
    # write lock (PostgreSQL) already orders this after any other batch of theirs.
    rewards = rewards_grant(
        learner=learner,
        new_days=new_days,
        at=max((a.answered_at for a in new_attempts), default=now),
        mastered=concepts_mastered(concept_changes, context.thresholds),
        now=now,
    )
    # Badges are checked after the commit, for the figures this batch moved (apps/achievements).
    learner_figures_changed_on_commit(learner=learner, kinds=rewards.figures_moved(bool(new_xp)))
    for position, attempt in graded:
        outcomes[position] = AttemptOutcome("created", attempt)
    return new_attempts
