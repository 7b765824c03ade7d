"""Placement: a computerised adaptive test on a course's live atoms.

Each step estimates ability θ by EAP from the session's answers, then offers the unanswered
atom of maximum Fisher information at θ, drawn at random from the best few (randomesque
exposure control, so the same opening items are not shown to everyone). It stops when the
standard error drops below ``PLACEMENT_TARGET_SE`` or after ``PLACEMENT_MAX_ITEMS``, and then
seeds the learner's concept states: θ and, as BKT's prior, the chance the learner *knows* the
concept's atoms at θ (the item curves without guessing; see ``p_known_at``).
"""

import hashlib
import random
from dataclasses import dataclass

import numpy as np
from django.db import transaction

from apps.content.models import AtomStatus, LearningAtom
from apps.core.errors import DomainConflict
from apps.learning.models import Attempt, StudySession
from apps.learning.services.sessions import study_session_complete

from .algorithms.irt import eap_ability, fisher_information, p_correct
from .models import LearnerConceptState

PLACEMENT_TARGET_SE = 0.3
PLACEMENT_MAX_ITEMS = 20
EXPOSURE_TOP_K = 5


@dataclass
class PlacementStep:
    done: bool
    theta: float
    se: float
    answered: int
    atom: LearningAtom | None = None


def _course_items(course) -> dict:
    """Live atoms of the course: pk → (a, b, c, concept ids)."""
    items: dict = {}
    rows = (
        LearningAtom.objects.filter(published_revision__isnull=False, live_concepts__course=course)
        .exclude(status=AtomStatus.ARCHIVED)
        .values_list("pk", "irt_a", "irt_b", "irt_c", "live_concepts")
    )
    for pk, a, b, c, concept_id in rows:
        items.setdefault(pk, [a, b, c, []])[3].append(concept_id)
    return items


def placement_step(*, session: StudySession) -> PlacementStep:
    """Where the placement test stands, and the next atom to offer unless it is done. Reads
    only: a finished test is applied by ``placement_finish`` (a POST).

    Precondition: ``session.kind == "placement"`` and ``session.course`` is set.
    """
    items = _course_items(session.course)
    answers = list(
        Attempt.objects.filter(session=session, archived_in__isnull=True)
        .order_by("answered_at")
        .values_list("atom_id", "correct")
    )
    answered = [(pk, correct) for pk, correct in answers if pk in items]
    theta, se = _ability(items, answered)
    remaining = [pk for pk in items if pk not in {pk for pk, _ in answered}]
    if se < PLACEMENT_TARGET_SE or len(answered) >= PLACEMENT_MAX_ITEMS or not remaining:
        return PlacementStep(True, theta, se, len(answered))
    a, b, c = (np.array([items[pk][i] for pk in remaining], dtype=float) for i in range(3))
    information = fisher_information(theta, a, b, c)
    best = np.argsort(-information, kind="stable")[:EXPOSURE_TOP_K]
    seed = hashlib.sha256(f"{session.pk}:{len(answered)}".encode()).digest()
    pick = random.Random(seed).choice(list(best))  # noqa: S311 - exposure control, not crypto
    atom = LearningAtom.objects.select_related("published_revision").get(pk=remaining[pick])
    return PlacementStep(False, theta, se, len(answered), atom)


def _ability(items: dict, answered: list) -> tuple[float, float]:
    if not answered:
        return 0.0, 1.0
    a, b, c = (np.array([items[pk][i] for pk, _ in answered], dtype=float) for i in range(3))
    responses = np.array([1.0 if correct else 0.0 for _, correct in answered])
    theta, se = eap_ability(responses, a, b, c)
    return float(theta), float(se)


class PlacementNotDone(DomainConflict):
    code = "placement_not_done"


def placement_finish(*, session: StudySession) -> PlacementStep:
    """Apply a finished placement test once: seed the course's concept states from θ and
    complete the session (through study_session_complete: its lock, outbox row and XP).
    Finishing again changes nothing, so practice after the placement is never undone.

    Precondition: a placement session with a course. Locks the session row.
    """
    with transaction.atomic():
        locked = StudySession.objects.select_for_update().get(pk=session.pk)
        step = placement_step(session=locked)
        if locked.completed_at is not None:
            return step
        if not step.done:
            raise PlacementNotDone(
                f"The placement test is not finished: {step.answered} answered, "
                f"θ standard error {step.se:.2f}. Answer the next item first."
            )
        _concept_states_seed(session=locked, theta=step.theta, se=step.se)
        study_session_complete(session=locked, placement_applied=True)
    return step


def p_known_at(theta: float, a, b, c) -> float:
    """BKT's prior P(known) for a learner at ability θ on a concept's items: the mean over the
    items of P(known) = (P(correct) − c)/(1 − c) = σ(a(θ − b)), the 3PL without its guessing
    floor (a learner who knows nothing still gets c right, and that is not knowing), clipped to
    [0.01, 0.99]."""
    c = np.asarray(c, dtype=float)
    known = np.clip((p_correct(theta, a, b, c) - c) / (1.0 - c), 0.0, 1.0)
    return float(np.clip(np.mean(known), 0.01, 0.99))


def _concept_states_seed(*, session: StudySession, theta: float, se: float) -> None:
    """Seed every concept of the course from the placement result."""
    items = _course_items(session.course)
    by_concept: dict = {}
    for a, b, c, concepts in items.values():
        for concept_id in concepts:
            by_concept.setdefault(concept_id, []).append((a, b, c))
    for concept_id, params in by_concept.items():
        a, b, c = (np.array([p[i] for p in params], dtype=float) for i in range(3))
        prior = p_known_at(theta, a, b, c)
        LearnerConceptState.objects.update_or_create(
            learner=session.learner,
            concept_id=concept_id,
            archived_in=None,
            defaults={"theta": theta, "theta_se": se, "p_known": prior},
        )
