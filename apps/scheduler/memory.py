"""What the scheduler believes a learner remembers in a course, for the staff memory page:
forgetting curves, each concept's P(known) over time, and the reviews due in the coming days.
Read-only: everything is computed from the stored states and attempts.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from apps.content.models import AtomConceptWeight
from apps.learning.models import Attempt

from .algorithms.bkt import bkt_update
from .algorithms.calendar_days import local_day
from .bkt_fitting import bkt_parameters_for_concepts
from .fitted import fitted_parameters
from .models import FittedKind, LearnerAtomState

FSRS_DEFAULT_DECAY = 0.1542  # FSRS-6's w[20], for states scheduled before any course fit
SM2_RECALL_AT_INTERVAL = 0.9  # an SM-2/Leitner interval read as "90% recall when due"
CURVE_ATOMS = 12  # the most practised atoms get a curve of their own; all count in the mean
HISTORY_ATTEMPTS = 300  # the latest attempts of each concept replayed for its P(known)


@dataclass(frozen=True)
class Curve:
    label: str
    recall: list[float]  # predicted recall at day 0, 1, ... from now


def recall_after(state: LearnerAtomState, days_from_now: float, now: datetime, decay: float):
    """Predicted probability of recall ``days_from_now`` days after ``now``, by the model
    that scheduled the atom; None for an atom never reviewed."""
    if state.last_reviewed_at is None:
        return None
    elapsed = max((now - state.last_reviewed_at).total_seconds() / 86400, 0) + days_from_now
    data = state.state or {}
    algorithm = data.get("algorithm")
    if algorithm == "fsrs" and data.get("stability"):
        factor = 0.9 ** (-1 / decay) - 1
        return (1 + factor * elapsed / float(data["stability"])) ** -decay
    if algorithm == "hlr" and data.get("half_life_days"):
        return 2 ** (-elapsed / float(data["half_life_days"]))
    if state.due_at is None:
        return None
    interval = max((state.due_at - state.last_reviewed_at).total_seconds() / 86400, 1 / 1440)
    return SM2_RECALL_AT_INTERVAL ** (elapsed / interval)


def _fsrs_decay(course) -> float:
    fitted = fitted_parameters(kind=FittedKind.FSRS, course=course) or {}
    weights = fitted.get("w") or []
    return float(weights[20]) if len(weights) > 20 else FSRS_DEFAULT_DECAY


def forgetting_curves(*, learner, course, days: int = 60, now=None) -> list[Curve]:
    """The mean predicted recall over the learner's reviewed atoms of the course, then one
    curve per most-practised atom."""
    now = now or timezone.now()
    decay = _fsrs_decay(course)
    states = list(
        LearnerAtomState.objects.filter(
            learner=learner,
            archived_in__isnull=True,
            last_reviewed_at__isnull=False,
            atom__concept_weights__concept__course=course,
        )
        .select_related("atom")
        .distinct()
        .order_by("-reviews", "atom__title")
    )
    per_atom = []
    for state in states:
        recall = [recall_after(state, day, now, decay) for day in range(days + 1)]
        if recall[0] is not None:
            per_atom.append(Curve(state.atom.title, [round(r, 4) for r in recall]))
    if not per_atom:
        return []
    mean = [round(sum(c.recall[day] for c in per_atom) / len(per_atom), 4)
            for day in range(days + 1)]  # fmt: skip
    return [Curve(f"Mean of {len(per_atom)} atoms", mean), *per_atom[:CURVE_ATOMS]]


def p_known_history(*, learner, course) -> dict[str, list[tuple[datetime, float]]]:
    """Each concept's P(known) after every attempt, replayed through BKT with the parameters
    the scheduler uses now (the concept's fit, the course's pooled prior, or the defaults)."""
    weights = AtomConceptWeight.objects.filter(concept__course=course).values_list(
        "atom_id", "concept_id", "concept__text"
    )
    concepts_of = defaultdict(list)
    names = {}
    for atom_id, concept_id, text in weights:
        concepts_of[atom_id].append(concept_id)
        names[concept_id] = text
    attempts = Attempt.objects.filter(
        learner=learner, atom_id__in=list(concepts_of), archived_in__isnull=True
    ).order_by("answered_at", "pk")
    sequences = defaultdict(list)
    for atom_id, answered_at, correct in attempts.values_list("atom_id", "answered_at", "correct"):
        for concept_id in concepts_of[atom_id]:
            sequences[concept_id].append((answered_at, correct))
    parameters = bkt_parameters_for_concepts(sequences)
    history = {}
    for concept_id, sequence in sequences.items():
        params = parameters[str(concept_id)]
        p, points = params.p_init, []
        for answered_at, correct in sequence:
            p = bkt_update(p, bool(correct), params)
            points.append((answered_at, round(p, 4)))
        history[names[concept_id]] = points[-HISTORY_ATTEMPTS:]
    return dict(sorted(history.items()))


def due_forecast(*, learner, course, days: int = 30, now=None) -> list[tuple[str, int]]:
    """Reviews due on each of the learner's next ``days`` local days; today includes what
    is overdue."""
    now = now or timezone.now()
    zone = learner.timezone or "UTC"
    today = local_day(now, zone)
    counts = [0] * days
    due_moments = (
        LearnerAtomState.objects.filter(
            learner=learner,
            archived_in__isnull=True,
            due_at__isnull=False,
            due_at__lt=now + timedelta(days=days + 1),
            atom__concept_weights__concept__course=course,
        )
        .distinct()  # an atom in two of the course's concepts counts once
        .values_list("pk", "due_at")
    )
    for _, due_at in due_moments:
        offset = max((local_day(due_at, zone) - today).days, 0)
        if offset < days:
            counts[offset] += 1
    return [((today + timedelta(days=k)).isoformat(), counts[k]) for k in range(days)]
