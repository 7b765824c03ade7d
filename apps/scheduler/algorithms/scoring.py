"""The unified candidate score: one vectorised pass over every candidate item.

For candidate i, with weights w and the components each in [0, 1]::

    score_i = w_due · U_i + w_gap · G_i + w_match · M_i + w_explore · E_i

    U_i  due urgency       = 0                               if not yet due (d_i < 0) or never
                                                             seen (d_i is NaN)
                           = (d_i + s) / (d_i + 2s)          otherwise, d_i = days overdue,
                                                             s = due_scale_days (default 1):
                                                             ½ when just due, → 1 the more
                                                             overdue
    G_i  mastery gap       = 1 − mastery_i                   (mastery of the item's concept,
                                                             0..1; unknown (NaN) counts as 0)
    M_i  difficulty match  = 1 − |p_i − p*| / max(p*, 1 − p*)
                                                             p_i = predicted probability of a
                                                             correct answer (e.g. IRT at the
                                                             learner's θ), p* = target_p
                                                             (0.75); 1 at the target, 0 at the
                                                             farther end of [0, 1]; ½ when p_i
                                                             is unknown (NaN)
    E_i  exploration (UCB) = u_i / (1 + u_i),  u_i = c·√(ln(1 + N) / (1 + n_i))
                                                             n_i = times the item was seen,
                                                             N = the learner's total exposures,
                                                             c = exploration_c; u/(1+u) maps
                                                             the UCB bonus onto [0, 1)

Every component depends on its own candidate only, so a candidate's score does not change
with the other candidates in the batch. :func:`score_candidates` returns the scores and the
(n, 4) component matrix (columns in ``COMPONENTS`` order) used to explain a recommendation;
:func:`score_candidates_loop` is the same arithmetic one item at a time, kept for the
benchmark and as an executable specification.
"""

import math
from dataclasses import dataclass

import numpy as np

COMPONENTS = ("due", "mastery_gap", "difficulty_match", "exploration")


@dataclass(frozen=True)
class ScoreWeights:
    due: float = 0.4
    mastery_gap: float = 0.2
    difficulty_match: float = 0.2
    exploration: float = 0.2
    target_p: float = 0.75
    exploration_c: float = 1.0
    due_scale_days: float = 1.0

    def __post_init__(self):
        if not 0.0 < self.target_p < 1.0:
            raise ValueError("target_p must be in (0, 1)")
        if self.due_scale_days <= 0:
            raise ValueError("due_scale_days must be positive")
        if self.exploration_c < 0:
            raise ValueError("exploration_c must be non-negative")


def _arrays(overdue_days, mastery, p_correct, exposures):
    arrays = [np.asarray(a, dtype=float).reshape(-1) for a in (overdue_days, mastery, p_correct)]
    arrays.append(np.asarray(exposures, dtype=float).reshape(-1))
    if len({a.shape[0] for a in arrays}) != 1:
        raise ValueError("all candidate arrays must have the same length")
    return arrays


def score_candidates(
    overdue_days,
    mastery,
    p_correct,
    exposures,
    total_exposures: float,
    weights: ScoreWeights | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Scores (n,) and components (n, 4) of n candidates, without a Python loop over items."""
    w = weights or ScoreWeights()
    overdue, mastery, p, seen = _arrays(overdue_days, mastery, p_correct, exposures)
    s = w.due_scale_days
    is_due = overdue >= 0  # False for NaN (never seen) as well
    d = np.where(is_due, overdue, 0.0)
    due = np.where(is_due, (d + s) / (d + 2.0 * s), 0.0)

    gap = 1.0 - np.clip(np.where(np.isnan(mastery), 0.0, mastery), 0.0, 1.0)

    spread = max(w.target_p, 1.0 - w.target_p)
    p = np.clip(p, 0.0, 1.0)
    match = np.where(np.isnan(p), 0.5, 1.0 - np.abs(p - w.target_p) / spread)

    log_total = math.log(1.0 + max(float(total_exposures), 0.0))
    ucb = w.exploration_c * np.sqrt(log_total / (1.0 + np.maximum(seen, 0.0)))
    explore = ucb / (1.0 + ucb)

    score = w.due * due + w.mastery_gap * gap + w.difficulty_match * match + w.exploration * explore
    return score, np.column_stack((due, gap, match, explore))


def score_candidates_loop(
    overdue_days,
    mastery,
    p_correct,
    exposures,
    total_exposures: float,
    weights: ScoreWeights | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`score_candidates` computed item by item in plain Python (benchmark reference)."""
    w = weights or ScoreWeights()
    overdue, mastery, p_correct, exposures = _arrays(overdue_days, mastery, p_correct, exposures)
    s = w.due_scale_days
    spread = max(w.target_p, 1.0 - w.target_p)
    log_total = math.log(1.0 + max(float(total_exposures), 0.0))
    n = overdue.shape[0]
    scores = np.empty(n)
    components = np.empty((n, len(COMPONENTS)))
    for i in range(n):
        d = float(overdue[i])
        due = (d + s) / (d + 2.0 * s) if d >= 0 else 0.0
        m = float(mastery[i])
        gap = 1.0 - (0.0 if math.isnan(m) else min(max(m, 0.0), 1.0))
        p = float(p_correct[i])
        match = 0.5 if math.isnan(p) else 1.0 - abs(min(max(p, 0.0), 1.0) - w.target_p) / spread
        ucb = w.exploration_c * math.sqrt(log_total / (1.0 + max(float(exposures[i]), 0.0)))
        explore = ucb / (1.0 + ucb)
        scores[i] = (
            w.due * due + w.mastery_gap * gap + w.difficulty_match * match + w.exploration * explore
        )
        components[i] = (due, gap, match, explore)
    return scores, components
