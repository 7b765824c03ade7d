"""Writes to learners' scheduler state. Attempts call ``review_plan`` before they are stored
and ``atom_state_rebuild`` when an offline attempt arrives older than the state it would join.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from .algorithms.sm2 import SM2State, sm2_review
from .models import LearnerAtomState


@dataclass
class ReviewPlan:
    before: dict
    after: dict
    due_at: datetime


def review_plan(state: LearnerAtomState | None, quality: int, reviewed_at: datetime) -> ReviewPlan:
    """Compute (not store) the state after a review of ``quality`` at ``reviewed_at``."""
    before = SM2State.from_dict(state.state if state else None)
    after = sm2_review(before, quality, reviewed_at)
    return ReviewPlan(before=state.state if state else {}, after=after.as_dict(), due_at=after.due)


def atom_state_rebuild(*, learner, atom_id) -> LearnerAtomState | None:
    """Replay the learner's live attempts on the atom in answer order; store the result.

    This keeps offline attempts that arrive late in the same state as if they had come live.
    """
    from apps.learning.models import Attempt

    attempts = Attempt.objects.filter(
        learner=learner, atom_id=atom_id, archived_in__isnull=True
    ).order_by("answered_at", "created_at")
    state, reviews, lapses, last = SM2State(), 0, 0, None
    corrected = []
    for attempt in attempts.only(
        "quality", "answered_at", "scheduler_state_before", "scheduler_state_after"
    ):
        before = state.as_dict() if reviews else {}
        state = sm2_review(state, attempt.quality, attempt.answered_at)
        after = state.as_dict()
        if (attempt.scheduler_state_before, attempt.scheduler_state_after) != (before, after):
            attempt.scheduler_state_before, attempt.scheduler_state_after = before, after
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
                "state": state.as_dict(),
                "due_at": state.due,
                "last_reviewed_at": last,
                "reviews": reviews,
                "lapses": lapses,
            },
        )
    return row
