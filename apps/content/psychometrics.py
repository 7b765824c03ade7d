"""Classical test theory item analysis (pure numpy; no Django, no database).

Every function works on the responses to ONE item. Arrays are 1-D and aligned: element ``i``
of every argument describes the same response (one learner's attempt at the item).

Statistics that are undefined for the data at hand (no responses, zero variance) are returned
as ``NaN`` rather than raising, so callers can store them as "unknown"; malformed input
(mismatched lengths, option indices out of range) raises ``ValueError``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DEFAULT_THRESHOLDS",
    "ItemResponses",
    "ItemStatistics",
    "ItemThresholds",
    "distractor_discrimination",
    "facility_index",
    "flag_reasons",
    "item_analysis",
    "option_selection_rates",
    "point_biserial",
]


def _as_1d(values: np.ndarray, name: str, dtype: type = float) -> np.ndarray:
    array = np.asarray(values, dtype=dtype)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    return array


def _check_same_length(**arrays: np.ndarray) -> int:
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"arrays must have the same length, got {lengths}")
    return next(iter(lengths.values()))


def _as_options(selected: np.ndarray, n_options: int) -> np.ndarray:
    if n_options < 0:
        raise ValueError(f"n_options must be >= 0, got {n_options}")
    raw = np.asarray(selected)
    if raw.ndim != 1:
        raise ValueError(f"selected must be 1-D, got shape {raw.shape}")
    if (
        raw.size
        and not np.issubdtype(raw.dtype, np.integer)
        and not np.all(np.equal(np.mod(raw, 1), 0))
    ):
        raise ValueError("selected must hold integer option indices")
    chosen = raw.astype(np.intp)
    if chosen.size and (chosen.min() < 0 or chosen.max() >= n_options):
        raise ValueError(f"selected option indices must lie in [0, {n_options})")
    return chosen


def facility_index(correct: np.ndarray) -> float:
    """Facility (classical difficulty, "p-value") of one item.

    ``p = Σ xᵢ / n`` where ``xᵢ ∈ {0, 1}`` is the score of response ``i`` (partial credit in
    ``[0, 1]`` gives the mean score). Higher means easier.

    Preconditions: ``correct`` is 1-D and finite. Returns ``NaN`` when there are no responses.
    """
    scores = _as_1d(correct, "correct")
    if scores.size == 0:
        return math.nan
    return float(scores.mean())


def point_biserial(
    item_correct: np.ndarray, total_scores: np.ndarray, corrected: bool = True
) -> float:
    """Point-biserial correlation between the 0/1 item score and the learners' total scores.

    With ``x`` the item score and ``y`` the criterion, this is Pearson's r, which for a
    dichotomous ``x`` equals ``r = (M₁ - M₀) / s · √(p·q)``: ``M₁``/``M₀`` are the mean
    criterion of learners who got the item right/wrong, ``s`` the *population* standard
    deviation of the criterion, ``p`` the facility and ``q = 1 - p``.

    When ``corrected`` (the default) the criterion is the rest score ``y = total - x``, so the
    item does not correlate with itself (the "corrected item-total correlation"); this
    presumes ``total_scores`` includes the item's own score.

    Preconditions: equal-length 1-D finite arrays. Returns ``NaN`` with fewer than two
    responses or when either variable has zero variance (e.g. everyone right). The result is
    clipped to ``[-1, 1]`` against rounding.
    """
    x = _as_1d(item_correct, "item_correct")
    totals = _as_1d(total_scores, "total_scores")
    n = _check_same_length(item_correct=x, total_scores=totals)
    if n < 2:
        return math.nan
    y = totals - x if corrected else totals
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    x_dev = x - x.mean()
    y_dev = y - y.mean()
    denominator = math.sqrt(float(x_dev @ x_dev) * float(y_dev @ y_dev))
    if denominator == 0.0:  # pragma: no cover - ptp > 0 implies positive variance
        return math.nan
    return float(np.clip(float(x_dev @ y_dev) / denominator, -1.0, 1.0))


def option_selection_rates(selected: np.ndarray, n_options: int) -> np.ndarray:
    """Proportion of responses choosing each option of one multiple-choice item.

    ``rate[k] = #{i : selectedᵢ = k} / n`` for ``k = 0 … n_options - 1``; the rates sum to 1
    whenever ``n > 0``.

    Preconditions: ``selected`` holds integer option indices in ``[0, n_options)``.
    Returns ``n_options`` zeros when there are no responses.
    """
    chosen = _as_options(selected, n_options)
    counts = np.bincount(chosen, minlength=n_options).astype(float)
    if chosen.size == 0:
        return counts
    return counts / chosen.size


def _group_size(n: int, group_fraction: float) -> int:
    """``k = round(fraction · n)`` (halves up), at least 1 and at most ``n // 2``."""
    return max(1, min(n // 2, math.floor(group_fraction * n + 0.5)))


def distractor_discrimination(
    selected: np.ndarray,
    total_scores: np.ndarray,
    n_options: int,
    group_fraction: float = 0.27,
) -> np.ndarray:
    """Kelley's upper-lower discrimination index for every option of one item.

    Learners are sorted by total score; the upper group ``U`` is the top ``k`` and the lower
    group ``L`` the bottom ``k``, with ``k = round(group_fraction · n)`` (halves rounded up),
    at least 1 and at most ``n // 2`` so the groups never overlap. Then for option ``j``::

        D[j] = #{i ∈ U : selectedᵢ = j} / k  -  #{i ∈ L : selectedᵢ = j} / k

    The correct option should have ``D > 0``; a working distractor ``D < 0`` (it attracts the
    weaker learners).

    Ties in total score are broken by a stable ascending sort: among equal totals, responses
    that come earlier in the arrays fall into the lower group first and later ones into the
    upper group.

    Preconditions: equal-length 1-D arrays, option indices in ``[0, n_options)``,
    ``0 < group_fraction ≤ 0.5``. Returns ``n_options`` NaNs with fewer than two responses.
    """
    if not 0.0 < group_fraction <= 0.5:
        raise ValueError(f"group_fraction must be in (0, 0.5], got {group_fraction}")
    chosen = _as_options(selected, n_options)
    totals = _as_1d(total_scores, "total_scores")
    n = _check_same_length(selected=chosen, total_scores=totals)
    if n < 2:
        return np.full(n_options, np.nan)
    k = _group_size(n, group_fraction)
    order = np.argsort(totals, kind="stable")
    lower, upper = order[:k], order[-k:]
    upper_rates = np.bincount(chosen[upper], minlength=n_options) / k
    lower_rates = np.bincount(chosen[lower], minlength=n_options) / k
    return (upper_rates - lower_rates).astype(float)


@dataclass
class ItemResponses:
    """All responses to ONE item, aligned element-wise.

    ``correct``: 0/1 score per response. ``learner_totals``: each responder's total score on
    the test or pool (including this item). ``selected_option``: chosen option index per
    response, or ``None`` for items without options (then ``n_options == 0`` and
    ``correct_option is None``).
    """

    correct: np.ndarray
    learner_totals: np.ndarray
    selected_option: np.ndarray | None = None
    n_options: int = 0
    correct_option: int | None = None


@dataclass(frozen=True)
class ItemStatistics:
    """Classical statistics of one item; NaN marks a statistic the data cannot define.

    ``discrimination`` is the corrected point-biserial. The option tuples are empty for items
    without options. ``correct_option`` is carried along so that :func:`flag_reasons` can tell
    distractors from the key.
    """

    n: int
    facility: float
    discrimination: float
    option_selection_rates: tuple[float, ...] = ()
    distractor_discrimination: tuple[float, ...] = ()
    correct_option: int | None = None


@dataclass(frozen=True)
class ItemThresholds:
    """Limits beyond which an item is flagged for re-review (mirrors ItemAnalysisSettings)."""

    min_responses: int = 30
    min_facility: float = 0.2
    max_facility: float = 0.95
    min_discrimination: float = 0.15
    max_distractor_discrimination: float = 0.0
    min_distractor_selection: float = 0.02


def item_analysis(responses: ItemResponses) -> ItemStatistics:
    """Facility, corrected point-biserial and, for option items, per-option selection rates
    and Kelley indices (default 27% groups) of one item."""
    correct = _as_1d(responses.correct, "correct")
    totals = _as_1d(responses.learner_totals, "learner_totals")
    n = _check_same_length(correct=correct, learner_totals=totals)
    rates: tuple[float, ...] = ()
    indices: tuple[float, ...] = ()
    if responses.selected_option is not None and responses.n_options > 0:
        selected = _as_options(responses.selected_option, responses.n_options)
        _check_same_length(correct=correct, selected_option=selected)
        rates = tuple(float(r) for r in option_selection_rates(selected, responses.n_options))
        indices = tuple(
            float(d) for d in distractor_discrimination(selected, totals, responses.n_options)
        )
    if responses.correct_option is not None and not (
        0 <= responses.correct_option < responses.n_options
    ):
        raise ValueError(f"correct_option {responses.correct_option} is not a valid option")
    return ItemStatistics(
        n=n,
        facility=facility_index(correct),
        discrimination=point_biserial(correct, totals, corrected=True),
        option_selection_rates=rates,
        distractor_discrimination=indices,
        correct_option=responses.correct_option,
    )


DEFAULT_THRESHOLDS = ItemThresholds()


def flag_reasons(
    stats: ItemStatistics, thresholds: ItemThresholds = DEFAULT_THRESHOLDS
) -> list[str]:
    """Human-readable reasons the item needs re-review; ``[]`` if none.

    Says nothing when ``stats.n < thresholds.min_responses`` (too little evidence). NaN
    statistics are skipped. Boundaries are inclusive (a value equal to a threshold passes).
    Distractor checks need ``stats.correct_option``; options are numbered by their index.
    """
    if stats.n < thresholds.min_responses:
        return []
    reasons: list[str] = []
    facility = stats.facility
    if not math.isnan(facility):
        if facility < thresholds.min_facility:
            reasons.append(f"Too hard: facility {facility:.2f} < {thresholds.min_facility:.2f}")
        elif facility > thresholds.max_facility:
            reasons.append(f"Too easy: facility {facility:.2f} > {thresholds.max_facility:.2f}")
    discrimination = stats.discrimination
    if not math.isnan(discrimination) and discrimination < thresholds.min_discrimination:
        reasons.append(
            f"Poor discrimination: {discrimination:.2f} < {thresholds.min_discrimination:.2f}"
        )
    if stats.correct_option is None:
        return reasons
    n_options = max(len(stats.option_selection_rates), len(stats.distractor_discrimination))
    for option in range(n_options):
        if option == stats.correct_option:
            continue
        if option < len(stats.distractor_discrimination):
            index = stats.distractor_discrimination[option]
            if not math.isnan(index) and index > thresholds.max_distractor_discrimination:
                reasons.append(
                    f"Distractor {option} attracts stronger learners (index {index:+.2f})"
                )
        if option < len(stats.option_selection_rates):
            rate = stats.option_selection_rates[option]
            if not math.isnan(rate) and rate < thresholds.min_distractor_selection:
                reasons.append(f"Distractor {option} is almost never chosen ({rate:.0%})")
    return reasons
