"""What a learner should study next: every candidate atom of the course scored at once.

The score (apps/scheduler/algorithms/scoring.py) combines due urgency, the concept's mastery
gap, how close the predicted P(correct) is to the course's target, and an exploration bonus;
the weights are the course's. New atoms are only offered for concepts whose prerequisites are
mastered; due reviews and new atoms are mixed in the course's ratio; concepts are interleaved;
nothing already answered in the current session comes back.

Daily limits (``next_items_today``): a learner is offered at most the course's new atoms and
reviews per day (or their own limits, ``User.daily_new_limit`` / ``daily_review_limit``),
counted on their calendar days (their time zone, days starting at
``SCHEDULER_DAY_START_HOUR``), unless they ask for extra. A ``mistakes`` session draws only the
atoms of the learner's open mistakes.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.utils import timezone

from apps.core.raw_sql import column_values, field_value, read_cursor
from apps.curriculum.models import Concept, Course
from apps.curriculum.structure import course_graph
from apps.experiments.policy import ArmPolicy, learner_arm
from apps.learning.models import Mistake, SessionKind, StudySession

from .algorithms.calendar_days import local_day
from .algorithms.irt import p_correct
from .algorithms.scoring import ScoreWeights, score_candidates
from .bkt_fitting import bkt_priors_for_course
from .candidates import CourseCandidates, course_candidates, learner_state_arrays
from .models import LearnerConceptState


@dataclass
class NextItem:
    atom_id: uuid.UUID
    revision_id: str  # the atom's published revision: what the learner is shown
    reason: str
    score: float


MISTAKE_REASON = "review a mistake"


@dataclass(frozen=True)
class DailyLimits:
    """The learner's limits in a course today and what is left of them. A *new* atom is one
    first answered today; a *review* is an atom answered today that was first answered on an
    earlier day (each counts once a day, however often it is answered)."""

    day: date  # the learner's calendar day
    new_per_day: int
    reviews_per_day: int
    new_done: int
    reviews_done: int

    @property
    def new_left(self) -> int:
        return max(0, self.new_per_day - self.new_done)

    @property
    def reviews_left(self) -> int:
        return max(0, self.reviews_per_day - self.reviews_done)


@dataclass
class NextItemsToday:
    items: list[NextItem]
    limits: DailyLimits
    session_kind: str | None  # of the session given, when it is the learner's
    arm: str | None = None  # the experiment arm whose mix and target chose them (experiments)


def learner_daily_limits(learner, course: Course) -> tuple[int, int]:
    """(new atoms, reviews) per day: the learner's own where set, else the course's."""
    return daily_limits_of(learner, course.new_per_day, course.reviews_per_day)


def daily_limits_of(learner, new_per_day: int, reviews_per_day: int) -> tuple[int, int]:
    """``learner_daily_limits`` from a course's two values (read with other columns)."""
    own_new, own_reviews = learner.daily_new_limit, learner.daily_review_limit
    return (
        new_per_day if own_new is None else own_new,
        reviews_per_day if own_reviews is None else own_reviews,
    )


def learner_day_start(learner, now: datetime) -> tuple[date, datetime]:
    """The learner's calendar day at ``now`` and the moment it started: the scheduler's days
    (apps/scheduler/algorithms/calendar_days.py), so a DST day is 23 or 25 hours long."""
    hour = settings.SCHEDULER_DAY_START_HOUR
    day = local_day(now, learner.timezone, hour)
    return day, datetime.combine(day, time(hour), tzinfo=ZoneInfo(learner.timezone))


def _weights(course: Course, arm: ArmPolicy | None = None) -> ScoreWeights:
    overrides = arm.parameters if arm else {}
    return ScoreWeights(
        due=course.weight_due,
        mastery_gap=course.weight_mastery_gap,
        difficulty_match=course.weight_difficulty_match,
        exploration=course.weight_exploration,
        target_p=overrides.get("target_p_correct", course.target_p_correct),
    )


def next_items(
    *, learner, course: Course, limit: int = 10, session_id=None, exclude_concepts=frozenset()
) -> list[NextItem]:
    """``exclude_concepts``: concepts not to offer now (practised a moment ago elsewhere:
    the learner's open v1 session, apps/legacy_sync/pull.py). No daily limits: what
    ``next_items_today`` picks when the limits leave room.

    The course's candidates come from the per-process copy (apps/scheduler/candidates.py); the
    learner's side is one narrow read of their live atom states in the course."""
    items, _limits, _kind, _arm = _choose(
        learner, course, limit, session_id, exclude_concepts, timezone.now(), daily=None
    )
    return items


def next_items_today(
    *,
    learner,
    course: Course,
    limit: int = 10,
    session_id=None,
    exclude_concepts=frozenset(),
    extra: bool = False,
    now: datetime | None = None,
) -> NextItemsToday:
    """Next items within the learner's daily limits, and what is left of them (before the
    items offered are answered). ``extra``: study past the limits (they are still reported).
    A ``mistakes`` session is remedial practice the learner chose: it ignores the limits too.
    Costs one narrow query more than ``next_items``: the atoms answered today."""
    items, limits, kind, arm = _choose(
        learner, course, limit, session_id, exclude_concepts, now or timezone.now(),
        daily="extra" if extra else "within",
    )  # fmt: skip
    return NextItemsToday(items=items, limits=limits, session_kind=kind, arm=arm and arm.key)


def _choose(learner, course, limit, session_id, exclude_concepts, now, *, daily):
    """(items, DailyLimits or None, the session's kind, the learner's experiment arm or None).
    ``daily``: None (no limits read), ``"extra"`` (read and reported, not applied) or
    ``"within"`` (applied). An arm's ``new_item_ratio`` and ``target_p_correct`` replace the
    course's (apps/experiments: one narrow read of the learner's assignment)."""
    now_epoch = now.timestamp()
    candidates = course_candidates(course.pk)
    rows = np.arange(len(candidates.atom_ids))
    codes = candidates.concept_codes
    leave_out, kind = _left_out(candidates, learner, session_id, exclude_concepts)
    if leave_out is not None:
        rows, codes = rows[~leave_out], codes[~leave_out]
    if not len(rows) and daily is None:
        return [], None, kind, None
    day, day_start = learner_day_start(learner, now)
    due, exposures, answered_today = _learner_atom_states(
        learner, candidates, answers_since=day_start if daily else None
    )
    # counted over every candidate, before any is left out: a limit is the whole course's
    limits = daily and _daily_limits(learner, course, day, exposures, answered_today)
    if not len(rows):
        return [], limits, kind, None
    arm = learner_arm(learner_id=learner.pk, course_id=course.pk, now=now)
    concept_of_code = candidates.concepts
    due, exposures = due[rows], exposures[rows]

    # One read of the learner's concept states: P(known) of this course's concepts, and θ
    # (the mean over every course's).
    with read_cursor(LearnerConceptState) as cursor:  # written out: see apps/core/raw_sql.py
        cursor.execute(
            "SELECT s.concept_id, s.p_known, s.theta, c.course_id = %s"
            " FROM scheduler_learnerconceptstate s JOIN curriculum_concept c ON c.id = s.concept_id"
            " WHERE s.learner_id = %s AND s.archived_in_id IS NULL",
            [field_value(Concept, "course", course.pk),
             field_value(LearnerConceptState, "learner", learner.pk)],
        )  # fmt: skip
        states = cursor.fetchall()
    concepts = column_values(LearnerConceptState, "concept", [row[0] for row in states])
    knowledge = {c: row[1] for c, row in zip(concepts, states, strict=True) if row[3]}
    theta = float(np.mean([row[2] for row in states])) if states else 0.0
    prerequisites = _course_prerequisites(course)
    # concepts not practised yet start at their fitted prior (the course's pooled one, or BKT's
    # default), as their first update will
    priors, other_prior = bkt_priors_for_course(course.pk)
    for concept_id in {*concept_of_code, *(p for req in prerequisites.values() for p in req)}:
        knowledge.setdefault(concept_id, priors.get(str(concept_id), other_prior))
    blocked = _blocked_concepts(prerequisites, knowledge, course.mastery_threshold)

    overdue = (now_epoch - due) / 86400.0  # NaN: never seen
    mastery = np.array([knowledge[k] for k in concept_of_code], dtype=float)[codes]
    seen = exposures > 0
    eligible = seen | ~np.array([k in blocked for k in concept_of_code], dtype=bool)[codes]
    predicted = p_correct(
        theta, candidates.irt_a[rows], candidates.irt_b[rows], candidates.irt_c[rows]
    )
    scores, _components = score_candidates(
        overdue, mastery, predicted, exposures, exposures.sum(), _weights(course, arm)
    )
    scores = np.where(eligible, scores, -np.inf)

    # a mistakes session is practice the learner chose past the limits
    capped = daily == "within" and kind != SessionKind.MISTAKES
    new_ratio = (arm.parameters if arm else {}).get("new_item_ratio", course.new_item_ratio)
    ordered = _mix(
        scores, seen, eligible, codes, limit, new_ratio,
        new_cap=limits.new_left if capped else limit,
        review_cap=limits.reviews_left if capped else limit,
    )  # fmt: skip
    items = [
        NextItem(
            atom_id=uuid.UUID(candidates.atom_ids[rows[i]]),
            revision_id=candidates.revision_ids[rows[i]],
            reason=MISTAKE_REASON
            if kind == SessionKind.MISTAKES
            else _reason(
                overdue[i], seen[i], mastery[i], course, concept_of_code[codes[i]] in prerequisites
            ),
            score=round(float(scores[i]), 4),
        )
        for i in ordered
    ]
    return items, limits, kind, arm


def _daily_limits(learner, course, day, exposures, answered_today) -> DailyLimits:
    """What the learner did today in the course, from each candidate's answers since their
    day started (read with their states: an index range on (learner, answered_at), one
    partition on PostgreSQL). An atom answered today is new today when every answer it has is
    today's: its state counts each answer (``reviews``, the ``exposures`` here), so no
    earlier history is read."""
    new_per_day, reviews_per_day = learner_daily_limits(learner, course)
    answered = answered_today > 0
    new_done = int(np.count_nonzero(answered & (exposures <= answered_today)))
    reviews_done = int(np.count_nonzero(answered)) - new_done
    return DailyLimits(day, new_per_day, reviews_per_day, new_done, reviews_done)


def _left_out(candidates: CourseCandidates, learner, session_id, exclude_concepts):
    """(a mask of the candidates not to offer now, or None when there are none; the session's
    kind). Left out: atoms answered in this session, atoms linked to a concept practised
    elsewhere, and in a ``mistakes`` session every atom without an open mistake."""
    leave_out, kind = None, None
    if session_id:
        # the session's kind and the atoms answered in it, in one read
        rows_read = list(
            StudySession.objects.filter(pk=session_id, learner=learner)
            .order_by()
            .values_list("kind", "attempts__atom_id")
        )
        kind = rows_read[0][0] if rows_read else None
        answered = {atom_id for _, atom_id in rows_read if atom_id is not None}
        rows = candidates.rows_of(np.array([a.bytes for a in answered], dtype="S16"))
        if (rows >= 0).any():
            leave_out = np.zeros(len(candidates.atom_ids), dtype=bool)
            leave_out[rows[rows >= 0]] = True
        if kind == SessionKind.MISTAKES:
            open_atoms = set(
                Mistake.objects.filter(
                    learner=learner,
                    cleared_at__isnull=True,
                    archived_in__isnull=True,
                    atom__isnull=False,
                )
                .order_by()
                .values_list("atom_id", flat=True)
            )
            rows = candidates.rows_of(np.array([a.bytes for a in open_atoms], dtype="S16"))
            without = np.ones(len(candidates.atom_ids), dtype=bool)
            without[rows[rows >= 0]] = False
            leave_out = without if leave_out is None else leave_out | without
    if exclude_concepts:
        excluded = [code for code, k in enumerate(candidates.concepts) if k in exclude_concepts]
        if excluded:
            mask = np.isin(candidates.concept_codes, excluded)
            for row, code in candidates.other_links:
                mask[row] |= code in excluded
            leave_out = mask if leave_out is None else leave_out | mask
    return leave_out, kind


def _learner_atom_states(learner, candidates: CourseCandidates, answers_since=None):
    """(due time as epoch seconds, NaN if never seen; times reviewed; answers since
    ``answers_since``, zeros without it) of each candidate, from one narrow read of the
    learner's live atom states."""
    states = learner_state_arrays(learner.pk, answers_since)
    due = np.full(len(candidates.atom_ids), np.nan)
    exposures = np.zeros(len(candidates.atom_ids))
    answered = np.zeros(len(candidates.atom_ids))
    rows = candidates.rows_of(states.keys)
    known = rows >= 0  # states of atoms that are not candidates here are left aside
    due[rows[known]] = states.due[known]
    exposures[rows[known]] = states.reviews[known]
    if states.answers_since is not None:
        answered[rows[known]] = states.answers_since[known]
    return due, exposures, answered


def _course_prerequisites(course: Course) -> dict:
    """{concept id: [its prerequisites' ids]} for the course's concepts that have any (the
    course's concept graph, kept per process: apps/curriculum/structure.py)."""
    return course_graph(course.pk).prerequisites


def _blocked_concepts(prerequisites: dict, knowledge: dict, threshold: float) -> set:
    """Concepts with a prerequisite under the mastery threshold: no new atoms from them yet."""
    return {
        concept_id
        for concept_id, required in prerequisites.items()
        if any(knowledge[p] < threshold for p in required)
    }


def _mix(
    scores, seen, eligible, concepts, limit: int, new_ratio: float, *, new_cap=None,
    review_cap=None,
) -> list[int]:  # fmt: skip
    """Reviews and new atoms in the course's ratio (either fills the other's gap), each list
    interleaved across concepts, then merged alternately so practice is varied. ``concepts``:
    each candidate's concept code (an integer array). ``new_cap`` / ``review_cap``: at most
    that many of each (the daily limits' left); a cap of ``limit`` or more changes nothing,
    since each list is a prefix of the same order."""
    order = np.argsort(-scores, kind="stable")
    order = order[eligible[order]]
    reviews = _interleave(order[seen[order]], concepts, _capped(limit, review_cap))
    fresh = _interleave(order[~seen[order]], concepts, _capped(limit, new_cap))
    take_new = min(len(fresh), round(limit * new_ratio))
    take_reviews = min(len(reviews), limit - take_new)
    take_new = min(len(fresh), limit - take_reviews)
    picked = np.concatenate([reviews[:take_reviews], fresh[:take_new]]).astype(np.intp)
    return [int(i) for i in _interleave(picked, concepts, limit)]


def _capped(limit: int, cap) -> int:
    return limit if cap is None else max(0, min(limit, cap))


def _interleave(ranked: np.ndarray, concepts: np.ndarray, limit: int) -> np.ndarray:
    """The first ``limit`` of a round-robin over concepts that keeps score order within each
    concept: round r gives each concept's r-th candidate, concepts in the order of their first
    appearance in ``ranked``. Computed as one sort by (round, that order) rather than popping
    queues, so 10k candidates cost a few numpy passes."""
    if not len(ranked):
        return ranked
    codes = concepts[ranked]
    by_concept = np.argsort(codes, kind="stable")  # each concept's candidates, in rank order
    sorted_codes = codes[by_concept]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    sizes = np.diff(np.r_[starts, len(codes)])
    rounds = np.empty(len(codes), dtype=np.intp)
    rounds[by_concept] = np.arange(len(codes)) - np.repeat(starts, sizes)
    first_seen = np.empty(len(codes), dtype=np.intp)  # where each row's concept first appears
    first_seen[by_concept] = np.repeat(by_concept[starts], sizes)
    return ranked[np.lexsort((first_seen, rounds))[:limit]]


def _reason(overdue_days: float, seen: bool, mastery: float, course: Course, gated: bool) -> str:
    if not seen:
        return "new: prerequisites mastered" if gated else "new: first steps in this concept"
    if not np.isnan(overdue_days) and overdue_days >= 0:
        days = int(overdue_days)
        return "due today" if days == 0 else f"due {days} day{'s' if days != 1 else ''} ago"
    if mastery < course.mastery_threshold:
        return "practise weak concept"
    return "review ahead of schedule"
