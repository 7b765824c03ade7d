"""The next-items selector as it was before issue 19 (one ORM query of every candidate row,
the learner's state joined in, UUIDs and round-robins in Python), kept verbatim as the reference
the fast selector must agree with (tests/scheduler/test_next_items_hot_path.py) and as the
bench's same-run baseline (bench/bench_scheduler.py). Not used by the application. One change:
candidates are ordered by ("-updated_at", "pk") instead of the model's "-updated_at" alone, so
ties between atoms saved in the same microsecond break the same way in both.
"""

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.db.models import FilteredRelation, FloatField, Func, Q
from django.utils import timezone

from apps.content.models import AtomStatus, LearningAtom
from apps.curriculum.models import ConceptPrerequisite, Course
from apps.learning.models import Attempt
from apps.scheduler.algorithms.irt import p_correct
from apps.scheduler.algorithms.scoring import ScoreWeights, score_candidates
from apps.scheduler.bkt_fitting import bkt_priors_for_course
from apps.scheduler.models import LearnerConceptState


class EpochSeconds(Func):
    """A timestamp as seconds since 1970 (NULL stays NULL), on PostgreSQL and SQLite."""

    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        template = "CAST(strftime('%%%%s', %(expressions)s) AS REAL)"  # %% survives two formats
        return self.as_sql(compiler, connection, template=template, **extra)


@dataclass
class NextItem:
    atom: LearningAtom
    reason: str
    score: float

    @property
    def atom_id(self):
        return self.atom.pk


def _weights(course: Course) -> ScoreWeights:
    return ScoreWeights(
        due=course.weight_due,
        mastery_gap=course.weight_mastery_gap,
        difficulty_match=course.weight_difficulty_match,
        exploration=course.weight_exploration,
        target_p=course.target_p_correct,
    )


def next_items_reference(
    *, learner, course: Course, limit: int = 10, session_id=None, exclude_concepts=frozenset()
) -> list[NextItem]:
    """``exclude_concepts``: concepts not to offer now (practised a moment ago elsewhere:
    the learner's open v1 session, apps/legacy_sync/pull.py)."""
    now_epoch = timezone.now().timestamp()
    # One row per (live atom, live concept) with the learner's state joined in; due times come
    # back as epoch seconds, which is far cheaper to load than 10k aware datetimes.
    rows = (
        LearningAtom.objects.filter(published_revision__isnull=False, live_concepts__course=course)
        .exclude(status=AtomStatus.ARCHIVED)
        .order_by("-updated_at", "pk")
        .annotate(
            mine=FilteredRelation(
                "learner_states",
                condition=Q(learner_states__learner=learner)
                & Q(learner_states__archived_in__isnull=True),
            )
        )
        .values_list(
            "pk", "irt_a", "irt_b", "irt_c", "live_concepts", EpochSeconds("mine__due_at"),
            "mine__reviews",
        )
    )  # fmt: skip
    answered_now = set()
    if session_id:
        answered_now = set(
            Attempt.objects.filter(learner=learner, session_id=session_id).values_list(
                "atom_id", flat=True
            )
        )
    rows = list(rows)
    if exclude_concepts:
        answered_now |= {row[0] for row in rows if row[4] in exclude_concepts}
    seen_ids: set = set()
    candidates = []
    for row in rows:
        if row[0] not in seen_ids and row[0] not in answered_now:  # first live concept leads
            seen_ids.add(row[0])
            candidates.append(row)
    if not candidates:
        return []
    atom_ids, a, b, c, concepts, due_epoch, reviews = zip(*candidates, strict=True)

    # One read of the learner's concept states: P(known) of this course's concepts, and θ
    # (the mean over every course's).
    states = list(
        LearnerConceptState.objects.filter(learner=learner, archived_in__isnull=True)
        .order_by()
        .values_list("concept_id", "concept__course_id", "p_known", "theta")
    )
    knowledge = {concept: p for concept, course_id, p, _ in states if course_id == course.pk}
    theta = float(np.mean([row[3] for row in states])) if states else 0.0
    prerequisites = _course_prerequisites(course)
    # concepts not practised yet start at their fitted prior (the course's pooled one, or BKT's
    # default), as their first update will
    priors, other_prior = bkt_priors_for_course(course.pk)
    for concept_id in {*concepts, *(p for required in prerequisites.values() for p in required)}:
        knowledge.setdefault(concept_id, priors.get(str(concept_id), other_prior))
    blocked = _blocked_concepts(prerequisites, knowledge, course.mastery_threshold)

    due = np.array(due_epoch, dtype=float)  # None → NaN: never seen
    overdue = (now_epoch - due) / 86400.0
    exposures = np.array([r or 0 for r in reviews], dtype=float)
    mastery = np.array([knowledge[k] for k in concepts], dtype=float)
    seen = exposures > 0
    eligible = seen | np.array([k not in blocked for k in concepts])
    predicted = p_correct(theta, np.array(a, float), np.array(b, float), np.array(c, float))
    scores, _components = score_candidates(
        overdue, mastery, predicted, exposures, exposures.sum(), _weights(course)
    )
    scores = np.where(eligible, scores, -np.inf)
    ids = atom_ids

    ordered = _mix(scores, seen, eligible, concepts, limit, course.new_item_ratio)
    atoms = LearningAtom.objects.select_related("published_revision").in_bulk(
        [ids[i] for i in ordered]
    )
    return [
        NextItem(
            atom=atoms[ids[i]],
            reason=_reason(overdue[i], seen[i], mastery[i], course, concepts[i] in prerequisites),
            score=round(float(scores[i]), 4),
        )
        for i in ordered
    ]


def _course_prerequisites(course: Course) -> dict:
    """{concept id: [its prerequisites' ids]} for the course's concepts that have any, in one
    read (unordered: the models' default ordering would join both concepts and the course)."""
    prerequisites: dict = defaultdict(list)
    for concept_id, prerequisite_id in (
        ConceptPrerequisite.objects.filter(concept__course=course)
        .order_by()
        .values_list("concept_id", "prerequisite_id")
    ):
        prerequisites[concept_id].append(prerequisite_id)
    return dict(prerequisites)


def _blocked_concepts(prerequisites: dict, knowledge: dict, threshold: float) -> set:
    """Concepts with a prerequisite under the mastery threshold: no new atoms from them yet."""
    return {
        concept_id
        for concept_id, required in prerequisites.items()
        if any(knowledge[p] < threshold for p in required)
    }


def _mix(scores, seen, eligible, concepts, limit: int, new_ratio: float) -> list[int]:
    """Reviews and new atoms in the course's ratio (either fills the other's gap), each list
    interleaved across concepts, then merged alternately so practice is varied."""
    order = np.argsort(-scores, kind="stable")
    reviews = _interleave([(i, concepts[i]) for i in order if seen[i] and eligible[i]])
    fresh = _interleave([(i, concepts[i]) for i in order if not seen[i] and eligible[i]])
    take_new = min(len(fresh), round(limit * new_ratio))
    take_reviews = min(len(reviews), limit - take_new)
    take_new = min(len(fresh), limit - take_reviews)
    return _interleave(
        [(i, concepts[i]) for i in reviews[:take_reviews]]
        + [(i, concepts[i]) for i in fresh[:take_new]]
    )


def _interleave(ranked: list[tuple[int, object]]) -> list[int]:
    """Round-robin over concepts, keeping score order within each concept."""
    queues: dict = defaultdict(list)
    for index, concept in ranked:
        queues[concept].append(index)
    result = []
    while any(queues.values()):
        for concept in list(queues):
            if queues[concept]:
                result.append(queues[concept].pop(0))
    return result


def _reason(overdue_days: float, seen: bool, mastery: float, course: Course, gated: bool) -> str:
    if not seen:
        return "new: prerequisites mastered" if gated else "new: first steps in this concept"
    if not np.isnan(overdue_days) and overdue_days >= 0:
        days = int(overdue_days)
        return "due today" if days == 0 else f"due {days} day{'s' if days != 1 else ''} ago"
    if mastery < course.mastery_threshold:
        return "practise weak concept"
    return "review ahead of schedule"
