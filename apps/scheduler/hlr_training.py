"""Training half-life regression on the platform's own attempt history.

Reviews follow the evaluation's protocol: a card is a (learner, atom) pair, only its first
attempt of each of the learner's calendar days counts (their time zone, the day-start hour),
and each later one is a training row: Δ = calendar days since the card's previous counted
attempt, the learner's right and wrong answers on the atom before it, the atom's main concept
(the paper's lexeme indicator), and whether this answer was right. α, λ and whether the
concept indicators help are chosen on a time split (``hlr_select``: the latest 20% of the rows
validate), the model is refitted on every row with them and stored as a new HalfLifeModel
version, recording the chosen α and λ.
"""

from collections import defaultdict

import numpy as np
from django.core.cache import cache
from django.db import transaction
from django.db.models import Max

from apps.content.models import AtomConceptWeight
from apps.core.process_memo import memo_forget, memo_get
from apps.learning.models import Attempt

from .algorithms.calendar_days import DEFAULT_DAY_START_HOUR, local_day
from .algorithms.hlr import N_BASE_FEATURES, hlr_features, hlr_select
from .models import HalfLifeModel

FEATURES = ["sqrt(1+correct)", "sqrt(1+wrong)", "bias"]
CONCEPT_FEATURE_PREFIX = "concept:"
MINIMUM_REVIEWS = 10


def _main_concepts(atom_ids) -> dict:
    """atom id → the concept it exercises most (ties: the lowest concept id)."""
    main: dict = {}
    weights = AtomConceptWeight.objects.filter(atom_id__in=atom_ids).order_by(
        "atom_id", "-weight", "concept_id"
    )
    for atom_id, concept_id in weights.values_list("atom_id", "concept_id"):
        main.setdefault(atom_id, concept_id)
    return main


def hlr_training_rows(
    *, day_start_hour: int = DEFAULT_DAY_START_HOUR, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list]:
    """(X, Δ days, recalled, concept index, concepts) from live attempts, rows in time order.

    ``concepts[k]`` is the concept of indicator k; a row's index is −1 if its atom has none."""
    attempts = (
        Attempt.objects.filter(archived_in__isnull=True)
        .order_by("answered_at", "pk")
        .values_list("learner_id", "atom_id", "learner__timezone", "answered_at", "correct")
    )
    if limit:
        attempts = attempts[:limit]
    history: dict = defaultdict(lambda: [0, 0, None])  # correct, wrong, last counted day
    correct_counts, wrong_counts, deltas, outcomes, atoms = [], [], [], [], []
    for learner_id, atom_id, timezone, answered_at, correct in attempts.iterator(chunk_size=10_000):
        day = local_day(answered_at, timezone or "UTC", day_start_hour)
        state = history[(learner_id, atom_id)]
        if state[2] is not None:
            if day <= state[2]:
                continue  # not the card's first attempt of the day
            correct_counts.append(state[0])
            wrong_counts.append(state[1])
            deltas.append((day - state[2]).days)
            outcomes.append(1.0 if correct else 0.0)
            atoms.append(atom_id)
        state[0 if correct else 1] += 1
        state[2] = day
    main = _main_concepts(set(atoms))
    concepts = list(dict.fromkeys(main[a] for a in atoms if a in main))
    position = {c: i for i, c in enumerate(concepts)}
    concept_index = np.array([position.get(main.get(a), -1) for a in atoms], dtype=int)
    X = hlr_features(correct_counts, wrong_counts)
    return (
        X,
        np.array(deltas, dtype=float),
        np.array(outcomes, dtype=float),
        concept_index,
        concepts,
    )


def hlr_model_train(
    *, epochs: int = 1000, day_start_hour: int = DEFAULT_DAY_START_HOUR
) -> HalfLifeModel:
    X, delta, recalled, concept_index, concepts = hlr_training_rows(day_start_hour=day_start_hour)
    if len(delta) < MINIMUM_REVIEWS:
        raise ValueError(
            f"Only {len(delta)} repeat reviews (one per card and day) in the attempt history; "
            f"need at least {MINIMUM_REVIEWS}."
        )
    selection = hlr_select(
        X,
        delta,
        recalled,
        indicator_index=concept_index,
        n_indicators=len(concepts),
        epochs=epochs,
    )
    model = selection.model
    names = list(FEATURES)
    if selection.indicators:
        names += [f"{CONCEPT_FEATURE_PREFIX}{c}" for c in concepts]
    with transaction.atomic():
        latest = HalfLifeModel.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0
        stored = HalfLifeModel.objects.create(
            version=latest + 1,
            weights=[float(w) for w in model.theta],
            feature_names=names,
            samples=len(delta),
            final_loss=float(model.loss_history[-1]) if model.loss_history else float("nan"),
            alpha=selection.alpha,
            l2=selection.l2,
        )
    cache.delete(CURRENT_WEIGHTS_CACHE_KEY)
    memo_forget(CURRENT_WEIGHTS_CACHE_KEY)
    return stored


CURRENT_WEIGHTS_CACHE_KEY = "scheduler:hlr:current-weights"


def hlr_current_weights() -> np.ndarray | None:
    """The newest model's shared weights (√(1+correct), √(1+wrong), bias), without its concept
    indicators: what a concept the model has no indicator for gets. Read on every review of an
    hlr course, so cached; training a new version replaces the cached value."""
    cached = memo_get(CURRENT_WEIGHTS_CACHE_KEY, MEMO_S, _current_weights_shared)
    return np.array(cached, dtype=float) if cached else None


MEMO_S = 30  # another process's new version is used within this (process_memo.py)


def _current_weights_shared() -> list:
    cached = cache.get(CURRENT_WEIGHTS_CACHE_KEY)
    if cached is None:
        latest = (
            HalfLifeModel.objects.order_by("-version").values_list("weights", flat=True).first()
        )
        cached = list(latest or [])[:N_BASE_FEATURES]
        cache.set(CURRENT_WEIGHTS_CACHE_KEY, cached, timeout=300)
    return cached
