"""SM-2 cards become FSRS memory states when their course switches to FSRS.

A card whose state the attempt log fully explains (every review is a stored attempt) is
replayed through FSRS, with the course's weights and the learner's calendar days: exactly the
state live FSRS reviews would have produced. Any other SM-2 card (a migrated v1 review card, or
one whose early history is not in the log) keeps its schedule: fsrs-rs's
``memory_state_from_sm2`` turns its ease and interval into a stability and a difficulty
(``fsrs_state_from_sm2``), and its due time stays. Cards SM-2 never scheduled past learning
(interval 0) are left alone; their next review starts FSRS afresh.

A card not converted here is converted on its next review anyway (``review_state_next``);
converting the whole course at once makes due dates and forecasts FSRS's at once.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count

from apps.core.models import Origin

from .algorithms.fsrs_adapter import fsrs_state_from_sm2
from .models import LearnerAtomState
from .services import course_scheduling_policy, review_states_replay

BATCH = 500


@dataclass
class ConversionOutcome:
    replayed: int = 0
    from_sm2: int = 0
    left_new: int = 0

    @property
    def converted(self) -> int:
        return self.replayed + self.from_sm2


def course_states_to_fsrs(*, course, sm2_retention: float = 0.9) -> ConversionOutcome:
    """Convert the live SM-2 states of the course's atoms to FSRS states (see the module
    docstring); ``sm2_retention`` is the recall rate SM-2 achieved (Anki assumes 0.9).
    Idempotent: FSRS states are not touched again. Works in batches, one transaction each."""
    from apps.content.models import LearningAtom
    from apps.learning.models import Attempt

    atoms = LearningAtom.live_concepts.through.objects.filter(concept__course=course).values(
        "learningatom_id"
    )
    pending = (
        LearnerAtomState.objects.filter(
            atom_id__in=atoms, archived_in__isnull=True, state__algorithm="sm2"
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    outcome = ConversionOutcome()
    policies: dict[str, object] = {}
    ids = list(pending)
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            rows = list(
                LearnerAtomState.objects.select_for_update()
                .filter(pk__in=ids[start : start + BATCH], state__algorithm="sm2")
                .select_related("learner")
                .order_by("pk")
            )
            logged = _attempt_counts(Attempt, rows)
            changed = []
            for row in rows:
                timezone = row.learner.timezone
                if timezone not in policies:
                    policies[timezone] = course_scheduling_policy(
                        course_id=course.pk,
                        algorithm="fsrs",
                        desired_retention=course.desired_retention,
                        maximum_interval_days=course.maximum_interval_days,
                        timezone=timezone,
                    )
                policy = policies[timezone]
                history = (
                    row.origin != Origin.LEGACY
                    and logged.get((row.learner_id, row.atom_id)) == row.reviews
                )
                if history and row.reviews:
                    reviews = list(
                        Attempt.objects.filter(
                            learner_id=row.learner_id, atom_id=row.atom_id, archived_in=None
                        )
                        .order_by("answered_at", "created_at")
                        .values_list("quality", "answered_at")
                    )
                    row.state, row.due_at = review_states_replay(reviews, policy)
                    outcome.replayed += 1
                else:
                    state = fsrs_state_from_sm2(row.state, policy.fsrs_parameters, sm2_retention)
                    if not state:
                        outcome.left_new += 1
                        continue
                    row.state = state
                    outcome.from_sm2 += 1
                changed.append(row)
            LearnerAtomState.objects.bulk_update(changed, ["state", "due_at"])
    return outcome


def _attempt_counts(attempt_model, rows) -> dict:
    """{(learner id, atom id): live attempts} for these states."""
    atoms_of = defaultdict(set)
    for row in rows:
        atoms_of[row.learner_id].add(row.atom_id)
    counts = {}
    for learner_id, atom_ids in atoms_of.items():
        for atom_id, n in (
            attempt_model.objects.filter(
                learner_id=learner_id, atom_id__in=atom_ids, archived_in=None
            )
            .values("atom_id")
            .annotate(n=Count("id"))
            .values_list("atom_id", "n")
        ):
            counts[(learner_id, atom_id)] = n
    return counts
