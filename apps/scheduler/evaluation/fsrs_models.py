"""FSRS-6 on calendar days for the evaluation: memory states, retrievability and fitting.

A card's history is a list of ``(rating, elapsed_days)`` (Anki ratings 1..4; elapsed whole
calendar days since the card's previous review, 0 for its first), one review per day, as
srs-benchmark feeds FSRS. Memory states come from ``fsrs_rs_python`` (the Rust FSRS that Anki
ships) when it is installed, else from py-fsrs's Scheduler replayed at day boundaries (the
same FSRS-6 formulas for reviews at least a day apart). Retrievability before review k is the
FSRS-6 forgetting curve R(t) = (1 + F·t/S)^(−w₂₀), F = 0.9^(−1/w₂₀) − 1, at the elapsed days t
and the stability S after review k − 1.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
from django.core.exceptions import ImproperlyConfigured

Histories = Sequence[Sequence[tuple[int, int]]]

try:  # Anki's engine; fits parameters without torch
    import fsrs_rs_python
except ImportError:  # pragma: no cover - exercised only where the wheel is missing
    fsrs_rs_python = None


def fsrs_default_parameters() -> list[float]:
    from fsrs.scheduler import DEFAULT_PARAMETERS

    return [float(w) for w in DEFAULT_PARAMETERS]


def _stabilities_rs(histories: Histories, parameters: Sequence[float]) -> list[list[float]]:
    model = fsrs_rs_python.FSRS(list(parameters))
    items = [
        fsrs_rs_python.FSRSItem([fsrs_rs_python.FSRSReview(r, t) for r, t in history])
        for history in histories
    ]
    states = model.historical_memory_state_batch(items)
    return [[s.stability for s in card_states] for card_states in states]


def _stabilities_py_fsrs(histories: Histories, parameters: Sequence[float]) -> list[list[float]]:
    from fsrs import Card, Rating, Scheduler

    scheduler = Scheduler(parameters=tuple(parameters), enable_fuzzing=False)
    start = datetime(2000, 1, 1, tzinfo=UTC)
    result = []
    for history in histories:
        card, day, stabilities = Card(card_id=0, due=start), 0, []
        for rating, elapsed in history:
            day += elapsed
            card, _ = scheduler.review_card(card, Rating(rating), start + timedelta(days=day))
            stabilities.append(float(card.stability))
        result.append(stabilities)
    return result


def fsrs_stabilities(histories: Histories, parameters: Sequence[float]) -> list[list[float]]:
    """Stability after each review of each card."""
    if fsrs_rs_python is not None:
        return _stabilities_rs(histories, parameters)
    return _stabilities_py_fsrs(histories, parameters)


def fsrs_recall(elapsed_days, stability, decay: float) -> np.ndarray:
    """FSRS-6's forgetting curve R(t, S) with decay w₂₀."""
    factor = 0.9 ** (-1.0 / decay) - 1.0
    t = np.asarray(elapsed_days, dtype=float)
    return (1.0 + factor * t / np.asarray(stability, dtype=float)) ** (-decay)


def _course_fitter():
    """``fsrs_fitting.fsrs_parameters_fit`` (the fitter courses use), if importable here: it
    needs Django's settings, which the benchmark runs without."""
    try:
        from apps.scheduler.fsrs_fitting import fsrs_parameters_fit
    except (ImportError, ImproperlyConfigured):
        return None
    return fsrs_parameters_fit


def fsrs_fit_parameters(histories: Histories) -> list[float] | None:
    """FSRS-6 parameters fitted on ``histories`` (training reviews only), or None without a
    fitter.

    fsrs-rs's ``compute_parameters`` on one training item per repeat review (the card's
    history up to and including it, as Anki builds its optimizer input): through
    ``apps.scheduler.fsrs_fitting`` when Django is set up, so courses and the evaluation fit
    alike, else directly. py-fsrs's ``Optimizer`` needs torch (not installed); it is the
    fallback only where fsrs_rs_python is missing and torch is there.
    """
    histories = [list(h) for h in histories]
    if fsrs_rs_python is not None:
        fitter = _course_fitter()
        if fitter is not None:
            return [float(w) for w in fitter(histories)]
        items = [
            fsrs_rs_python.FSRSItem(
                [fsrs_rs_python.FSRSReview(r, t) for r, t in history[: end + 1]]
            )
            for history in histories
            for end in range(1, len(history))
        ]
        if not items:
            return None
        model = fsrs_rs_python.FSRS(fsrs_rs_python.DEFAULT_PARAMETERS)
        return [float(w) for w in model.compute_parameters(items)]
    return _fit_with_py_fsrs(histories)  # pragma: no cover


def _fit_with_py_fsrs(histories: Histories) -> list[float] | None:  # pragma: no cover
    try:
        from fsrs import Optimizer, Rating, ReviewLog

        Optimizer([])  # raises ImportError without torch
    except ImportError:
        return None
    start = datetime(2000, 1, 1, tzinfo=UTC)
    logs = []
    for card_id, history in enumerate(histories):
        day = 0
        for rating, elapsed in history:
            day += elapsed
            logs.append(
                ReviewLog(card_id, Rating(rating), start + timedelta(days=day), review_duration=0)
            )
    return [float(w) for w in Optimizer(logs).compute_optimal_parameters()]
