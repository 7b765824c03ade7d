"""Training half-life regression on the platform's own attempt history.

Each training row is a review that had an earlier review of the same atom by the same learner:
Δ = days since that earlier review, the learner's right and wrong answers on the atom before it,
and whether this answer was right. Weights are fitted with the paper's loss
(apps/scheduler/algorithms/hlr.py) and stored as a new HalfLifeModel version.
"""

from collections import defaultdict

import numpy as np
from django.core.cache import cache
from django.db import transaction
from django.db.models import Max

from apps.learning.models import Attempt

from .algorithms.hlr import hlr_features, hlr_train
from .models import HalfLifeModel

FEATURES = ["sqrt(1+correct)", "sqrt(1+wrong)", "bias"]


def hlr_training_rows(*, limit: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, Δ days, recalled) from live attempts, in answer order per learner and atom."""
    history: dict = defaultdict(lambda: [0, 0, None])  # correct, wrong, last answered_at
    correct_counts, wrong_counts, deltas, outcomes = [], [], [], []
    attempts = (
        Attempt.objects.filter(archived_in__isnull=True)
        .order_by("learner_id", "atom_id", "answered_at")
        .values_list("learner_id", "atom_id", "answered_at", "correct")
    )
    if limit:
        attempts = attempts[:limit]
    for learner_id, atom_id, answered_at, correct in attempts.iterator(chunk_size=10_000):
        state = history[(learner_id, atom_id)]
        if state[2] is not None:
            correct_counts.append(state[0])
            wrong_counts.append(state[1])
            deltas.append((answered_at - state[2]).total_seconds() / 86400)
            outcomes.append(1.0 if correct else 0.0)
        state[0 if correct else 1] += 1
        state[2] = answered_at
    X = hlr_features(correct_counts, wrong_counts)
    return X, np.array(deltas, dtype=float), np.array(outcomes, dtype=float)


def hlr_model_train(*, alpha: float = 0.01, l2: float = 0.1, epochs: int = 300) -> HalfLifeModel:
    X, delta, recalled = hlr_training_rows()
    if len(delta) < 10:
        raise ValueError(
            f"Only {len(delta)} repeat reviews in the attempt history; need at least 10."
        )
    model = hlr_train(X, delta, recalled, alpha=alpha, l2=l2, epochs=epochs)
    with transaction.atomic():
        latest = HalfLifeModel.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0
        stored = HalfLifeModel.objects.create(
            version=latest + 1,
            weights=[float(w) for w in model.theta],
            feature_names=FEATURES,
            samples=len(delta),
            final_loss=float(model.loss_history[-1]) if model.loss_history else float("nan"),
            alpha=alpha,
            l2=l2,
        )
    cache.delete(CURRENT_WEIGHTS_CACHE_KEY)
    return stored


CURRENT_WEIGHTS_CACHE_KEY = "scheduler:hlr:current-weights"


def hlr_current_weights() -> np.ndarray | None:
    """The newest model's weights. Read on every review of an hlr course, so cached; training
    a new version replaces the cached value."""
    cached = cache.get(CURRENT_WEIGHTS_CACHE_KEY)
    if cached is None:
        latest = (
            HalfLifeModel.objects.order_by("-version").values_list("weights", flat=True).first()
        )
        cached = latest or []
        cache.set(CURRENT_WEIGHTS_CACHE_KEY, cached, timeout=300)
    return np.array(cached, dtype=float) if cached else None
