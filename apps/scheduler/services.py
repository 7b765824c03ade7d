"""Writes to learners' scheduler state, in the attempt's transaction.

``review_plan`` computes an atom's next state (``review_state_next``) with the course's
algorithm (SM-2, FSRS, Leitner, or half-life regression's cold-start rule);
``concept_states_update`` moves BKT's P(known) and the ability estimate θ;
``atom_state_rebuild`` replays the attempt log when an offline attempt arrives older than the
state it would join.
"""

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache

from django.db import transaction
from django.utils import timezone as django_timezone

from apps.core.bulk import rows_update
from apps.core.raw_sql import field_value, for_update, in_list

from .algorithms.bkt import BKTParams, bkt_update
from .algorithms.calendar_days import DEFAULT_DAY_START_HOUR
from .algorithms.fsrs_adapter import fsrs_review, fsrs_state_from_sm2, quality_to_fsrs_rating
from .algorithms.hlr import (
    hlr_cold_start_interval_days,
    hlr_features,
    hlr_half_life,
    hlr_interval_days,
)
from .algorithms.leitner import LeitnerState, leitner_review
from .algorithms.sm2 import SM2State, sm2_review
from .bkt_fitting import DEFAULT_BKT, bkt_parameters_for_concepts
from .hlr_training import hlr_current_weights
from .models import LearnerAtomState, LearnerConceptState

# P(known) of a concept never practised, until its course's BKT parameters are fitted
# (bkt_fitting; a fitted concept's prior is its own p_init).
DEFAULT_P_KNOWN = DEFAULT_BKT.p_init


@dataclass(frozen=True)
class SchedulingPolicy:
    algorithm: str = "sm2"
    desired_retention: float = 0.9
    maximum_interval_days: int = 365
    # FSRS: the course's fitted weights in use (None: the defaults), and the learner's calendar
    # (elapsed days are counted in it; see course_scheduling_policy).
    fsrs_parameters: tuple[float, ...] | None = None
    timezone: str = "UTC"
    day_start_hour: int = DEFAULT_DAY_START_HOUR


@dataclass
class ReviewPlan:
    before: dict
    after: dict
    due_at: datetime


def review_state_next(previous: dict, quality: int, at: datetime, policy: SchedulingPolicy):
    """(state dict, due) after one review. A state from another algorithm starts afresh,
    except an SM-2 state reviewed by FSRS: it becomes an FSRS memory state first
    (``fsrs_state_from_sm2``), so a course switching to FSRS does not restart its cards."""
    correct = quality >= 3
    if policy.algorithm == "fsrs":
        return _fsrs_review(previous, quality, at, policy)
    if policy.algorithm == "leitner":
        state = leitner_review(LeitnerState.from_dict(previous), correct, at)
        return state.as_dict(), state.due
    if policy.algorithm == "hlr":
        same = previous.get("algorithm") == "hlr"
        right = (previous.get("correct", 0) if same else 0) + correct
        seen = (previous.get("reviews", 0) if same else 0) + 1
        weights = hlr_current_weights()
        if weights is None:  # no trained model yet: the seed's cold-start rule
            days = float(hlr_cold_start_interval_days(right / seen))
            half_life = None
        else:
            features = hlr_features([right], [seen - right])
            half_life = float(hlr_half_life(features, weights)[0])
            days = float(hlr_interval_days(half_life, policy.desired_retention))
        days = min(max(days, 1 / 1440), policy.maximum_interval_days)
        due = at + timedelta(days=days)
        state = {
            "algorithm": "hlr",
            "correct": right,
            "reviews": seen,
            "half_life_days": half_life,
            "due": due.isoformat(),
        }
        return state, due
    state = _sm2_review_capped(SM2State.from_dict(previous), quality, at, policy)
    return state.as_dict(), state.due


def _fsrs_review(previous: dict, quality: int, at: datetime, policy: SchedulingPolicy):
    if previous.get("algorithm") == "sm2":
        previous = fsrs_state_from_sm2(previous, policy.fsrs_parameters)
    return fsrs_review(
        previous if previous.get("algorithm") == "fsrs" else None,
        quality_to_fsrs_rating(quality),
        at,
        desired_retention=policy.desired_retention,
        maximum_interval=policy.maximum_interval_days,
        parameters=policy.fsrs_parameters,
        timezone=policy.timezone,
        day_start_hour=policy.day_start_hour,
    )


def _sm2_review_capped(state: SM2State, quality: int, at: datetime, policy) -> SM2State:
    state = sm2_review(state, quality, at)
    limited = min(state.interval_days, policy.maximum_interval_days)
    if limited != state.interval_days:
        state = replace(state, interval_days=limited, due=at + timedelta(days=limited))
    return state


@lru_cache(maxsize=65_536)
def _sm2_sequence(qualities: tuple[int, ...], maximum_interval_days: int) -> tuple:
    """(easiness, repetitions, interval days) after reviews of these qualities, capped."""
    policy = SchedulingPolicy(maximum_interval_days=maximum_interval_days)
    state, at = SM2State(), datetime(2000, 1, 1)
    for quality in qualities:
        state = _sm2_review_capped(state, quality, at, policy)
    return state.easiness, state.repetitions, state.interval_days


def review_states_replay(reviews, policy: SchedulingPolicy) -> tuple[dict, datetime | None]:
    """(state, due) after ``reviews`` — (quality, reviewed_at) pairs in order — from no state:
    what review_state_next gives step by step, without SM-2's dict round trip per step (the
    legacy backfill replays millions)."""
    if policy.algorithm == "sm2":
        if not reviews:
            return SM2State().as_dict(), None
        # SM-2's numbers depend on the qualities alone, and migrated histories repeat the
        # same short sequences endlessly: compute each once; the times only place the result.
        qualities = tuple(quality for quality, _ in reviews)
        easiness, repetitions, interval = _sm2_sequence(qualities, policy.maximum_interval_days)
        last = reviews[-1][1]
        due = last + timedelta(days=interval)
        state = SM2State(easiness, repetitions, interval, due, last)
        return state.as_dict(), due
    state, due = {}, None
    for quality, at in reviews:
        state, due = review_state_next(state, quality, at, policy)
    return state, due


def course_scheduling_policy(
    *,
    course_id,
    algorithm: str,
    desired_retention: float,
    maximum_interval_days: int,
    timezone: str | None = None,
) -> SchedulingPolicy:
    """The policy a course's reviews are scheduled with, for a learner in ``timezone``: an
    FSRS course uses its fitted weights in use (``FittedModel``, else the defaults) and counts
    elapsed time in the learner's calendar days (``SCHEDULER_DAY_START_HOUR``, 4 by default)."""
    from django.conf import settings

    from .fitted import fitted_parameters

    parameters = None
    if algorithm == "fsrs" and course_id is not None:
        fitted = fitted_parameters(kind="fsrs", course=course_id)
        if fitted and fitted.get("w"):
            parameters = tuple(float(w) for w in fitted["w"])
    return SchedulingPolicy(
        algorithm,
        desired_retention,
        maximum_interval_days,
        fsrs_parameters=parameters,
        timezone=timezone or "UTC",
        day_start_hour=settings.SCHEDULER_DAY_START_HOUR,
    )


def scheduling_policy_for_atom(atom_id, learner=None) -> SchedulingPolicy:
    """The policy of the course the atom's (first) live concept belongs to, for ``learner``'s
    calendar and with ``learner``'s experiment arm there applied, as the attempt service and
    next items apply it (apps/experiments/policy.py); SM-2 otherwise. One read more when a
    learner is given (their arm)."""
    from apps.content.models import LearningAtom
    from apps.experiments.policy import learner_arm

    course = (
        LearningAtom.live_concepts.through.objects.filter(learningatom_id=atom_id)
        .order_by("concept_id")
        .values_list(
            "concept__course_id",
            "concept__course__default_algorithm",
            "concept__course__desired_retention",
            "concept__course__maximum_interval_days",
        )
        .first()
    )
    if not course:
        return SchedulingPolicy()
    course_id, algorithm, retention, maximum = course
    if learner is not None and learner.pk is not None:
        arm = learner_arm(learner_id=learner.pk, course_id=course_id, now=django_timezone.now())
        if arm is not None:  # experiments: the arm's policy while it runs
            algorithm, retention, maximum = arm.applied(algorithm, retention, maximum)
    return course_scheduling_policy(
        course_id=course_id,
        algorithm=algorithm,
        desired_retention=retention,
        maximum_interval_days=maximum,
        timezone=getattr(learner, "timezone", None),
    )


def review_plan(
    state: LearnerAtomState | None,
    quality: int,
    reviewed_at: datetime,
    policy: SchedulingPolicy | None = None,
) -> ReviewPlan:
    """Compute (not store) the atom state after a review of ``quality`` at ``reviewed_at``."""
    before = state.state if state else {}
    after, due = review_state_next(before, quality, reviewed_at, policy or SchedulingPolicy())
    return ReviewPlan(before=before, after=after, due_at=due)


def atom_state_rebuild(
    *, learner, atom_id, policy: SchedulingPolicy | None = None
) -> LearnerAtomState | None:
    """Replay the learner's live attempts on the atom in answer order; store the result, and
    correct the derived before/after states on attempts that were stored out of order."""
    from apps.learning.models import Attempt

    policy = policy or scheduling_policy_for_atom(atom_id, learner)
    attempts = Attempt.objects.filter(
        learner=learner, atom_id=atom_id, archived_in__isnull=True
    ).order_by("answered_at", "created_at")
    state: dict = {}
    due, reviews, lapses, last = None, 0, 0, None
    corrected = []
    for attempt in attempts.only(
        "quality", "answered_at", "scheduler_state_before", "scheduler_state_after"
    ):
        before = state
        state, due = review_state_next(before, attempt.quality, attempt.answered_at, policy)
        if (attempt.scheduler_state_before, attempt.scheduler_state_after) != (before, state):
            attempt.scheduler_state_before, attempt.scheduler_state_after = before, state
            corrected.append(attempt)
        reviews, lapses, last = reviews + 1, lapses + (attempt.quality < 3), attempt.answered_at
    if last is None:
        return None
    with transaction.atomic():
        # Derived fields only: the graded answer itself is never rewritten.
        Attempt.objects.bulk_update(corrected, ["scheduler_state_before", "scheduler_state_after"])
        row, _ = LearnerAtomState.objects.update_or_create(
            learner=learner,
            atom_id=atom_id,
            archived_in=None,
            defaults={
                "state": state,
                "due_at": due,
                "last_reviewed_at": last,
                "reviews": reviews,
                "lapses": lapses,
            },
        )
    return row


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def concept_state_observe(
    row: LearnerConceptState,
    correct: bool,
    a: float,
    b: float,
    c: float,
    bkt: BKTParams = DEFAULT_BKT,
) -> None:
    """Move one concept state by one observed answer (in memory; the caller stores it): BKT's
    P(known) with the concept's parameters ``bkt``, and θ by one Fisher-scoring step of the
    3PL log-likelihood (prior information 1/SE² plus the item's Fisher information)."""
    # Kept off exactly 0 and 1: a float that rounds to certainty could never come back.
    row.p_known = min(1 - 1e-6, max(1e-6, bkt_update(row.p_known, correct, bkt)))
    # irt.p_correct and irt.fisher_information for one scalar (the backfill calls this millions
    # of times): with σ = σ(a(θ − b)), P = c + (1 − c)σ, the 3PL score is
    # a(u − P)(P − c)/(P(1 − c)) = a(u − P)σ/P and the information a²(1 − c)σ²(1 − σ)/P.
    sigma = _logistic(a * (row.theta - b))
    p = max(c + (1.0 - c) * sigma, 1e-12)
    score = a * ((1.0 if correct else 0.0) - p) * sigma / p
    information = 1.0 / row.theta_se**2 + a * a * (1.0 - c) * sigma * sigma * (1.0 - sigma) / p
    row.theta += score / information
    row.theta = max(-6.0, min(6.0, row.theta))
    row.theta_se = 1.0 / math.sqrt(information)
    row.attempts += 1
    row.correct_attempts += correct
    row.version += 1


def concept_half_life_days(right: int, seen: int, weights) -> float:
    """Half-life regression's estimate for a concept answered ``seen`` times, ``right`` of them
    correctly: the trained model's when there is one (``weights``), else the seed's cold-start
    rule. The legacy backfill sets migrated concept states the same way."""
    if weights is None:
        return float(hlr_cold_start_interval_days(right / seen))
    return float(hlr_half_life(hlr_features([right], [seen - right]), weights)[0])


CONCEPT_STATE_UPDATED_FIELDS = [
    "p_known", "theta", "theta_se", "attempts", "correct_attempts", "half_life_days",
    "last_practised_at", "version",
]  # fmt: skip


def concept_states_update(*, learner, observations: list[tuple], course_of=None) -> dict:
    """Apply (concept_id, correct, irt a, b, c[, answered_at]) observations in order.

    Per concept: BKT's P(known) with the concept's parameters (its own fit in use, else the
    course's pooled prior, else the defaults; looked up once for the whole batch), an online
    ability estimate (one Fisher-scoring step of the 3PL log-likelihood per answer, the
    standard error from the accumulated information), the answer counts, when it was last
    practised (the latest ``answered_at``; now when the caller gives none) and its half-life
    (``concept_half_life_days`` from the updated counts).

    ``course_of`` ({concept id text: course id}), when the caller knows it, spares a query.

    Returns {concept id text: (P(known) before, None for a new state; after; latest answer)}
    so the caller can tell a concept crossing its mastery threshold (mastery bonuses).

    Precondition: inside the attempt's transaction; rows are locked in concept order.
    """
    if not observations:
        return {}
    concept_ids = sorted({str(o[0]) for o in observations})
    ids_sql, ids = in_list(LearnerConceptState, "concept", concept_ids)
    # Written out (apps/core/raw_sql.py): the ORM took longer to compile it than to run it.
    locked = LearnerConceptState.objects.raw(
        "SELECT * FROM scheduler_learnerconceptstate WHERE learner_id = %s"  # noqa: S608
        f" AND archived_in_id IS NULL AND concept_id IN {ids_sql} ORDER BY concept_id"
        f"{for_update()}",
        [field_value(LearnerConceptState, "learner", learner.pk), *ids],
    )
    rows = {str(row.concept_id): row for row in locked}
    parameters = bkt_parameters_for_concepts(concept_ids, course_of=course_of)
    now = django_timezone.now()
    before = {concept_id: row.p_known for concept_id, row in rows.items()}
    latest: dict = {}
    for concept_id, correct, a, b, c, *answered_at in observations:
        bkt = parameters[str(concept_id)]
        row = rows.get(str(concept_id))
        if row is None:
            row = rows[str(concept_id)] = LearnerConceptState(
                learner=learner, concept_id=concept_id, p_known=bkt.p_init
            )
        concept_state_observe(row, bool(correct), a, b, c, bkt)
        at = answered_at[0] if answered_at else now
        latest[str(concept_id)] = max(at, latest.get(str(concept_id), at))
        if row.last_practised_at is None or at > row.last_practised_at:
            row.last_practised_at = at  # a late offline answer does not move it back
    weights = hlr_current_weights()
    for row in rows.values():
        row.half_life_days = concept_half_life_days(row.correct_attempts, row.attempts, weights)
    new = [r for r in rows.values() if r.pk is None]
    old = [r for r in rows.values() if r.pk is not None]
    LearnerConceptState.objects.bulk_create(new)
    rows_update(LearnerConceptState, old, CONCEPT_STATE_UPDATED_FIELDS)
    return {
        concept_id: (before.get(concept_id), rows[concept_id].p_known, at)
        for concept_id, at in latest.items()
    }
