"""Placement: a computerised adaptive test on a course's live atoms.

Each step estimates ability θ by EAP from the session's answers, then offers the unanswered
atom of maximum Fisher information at θ, drawn at random from the best few (randomesque
exposure control, so the same opening items are not shown to everyone). It stops when the
standard error drops below ``PLACEMENT_TARGET_SE`` or after ``PLACEMENT_MAX_ITEMS``, and then
seeds the learner's concept states: θ and, as BKT's prior, the expected P(correct) at θ.
"""

import hashlib
import random
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.utils import timezone

from apps.content.models import AtomStatus, LearningAtom
from apps.learning.models import Attempt, StudySession

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
    """Where the placement test stands, and the next atom to offer unless it is done.

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
        placement_complete(session=session, theta=theta, se=se, items=items)
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


def placement_complete(*, session: StudySession, theta: float, se: float, items: dict) -> None:
    """Seed every concept of the course from the placement result (idempotent)."""
    by_concept: dict = {}
    for a, b, c, concepts in items.values():
        for concept_id in concepts:
            by_concept.setdefault(concept_id, []).append((a, b, c))
    with transaction.atomic():
        for concept_id, params in by_concept.items():
            a, b, c = (np.array([p[i] for p in params], dtype=float) for i in range(3))
            prior = float(np.clip(np.mean(p_correct(theta, a, b, c)), 0.01, 0.99))
            LearnerConceptState.objects.update_or_create(
                learner=session.learner,
                concept_id=concept_id,
                archived_in=None,
                defaults={"theta": theta, "theta_se": se, "p_known": prior},
            )
        if session.completed_at is None:
            session.completed_at = timezone.now()
            session.save(update_fields=["completed_at"])
