"""Pimsleur's graduated-interval recall (P. Pimsleur, "A Memory Schedule", The Modern
Language Journal 51(2):73–75, 1967).

Pimsleur spaced the presentations of a new word so that each comes as it is about to be
forgotten, each interval about five times the previous one: 5 seconds, 25 seconds, 2 minutes,
10 minutes, 1 hour, 5 hours, 1 day, 5 days, 25 days, 4 months, 2 years. Months are taken as
30 days and years as 365 days here.

The schedule has no rule for failures. Here a correct answer advances one step and a wrong one
restarts at the first step, as Leitner sends a card back to box 1 (Settles & Meeder, 2016,
instead index Pimsleur by the number of exposures whatever their outcome). A new card is at
step 0 (5 seconds), so as with Leitner's box 1 a correct first answer moves it on a step.
For prediction the current step's interval is the half-life: p = 2^(−elapsed/interval).
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

_SECOND = 1.0 / 86400.0
PIMSLEUR_INTERVALS_DAYS = (
    5 * _SECOND,
    25 * _SECOND,
    2 * 60 * _SECOND,
    10 * 60 * _SECOND,
    1 / 24,
    5 / 24,
    1.0,
    5.0,
    25.0,
    4 * 30.0,
    2 * 365.0,
)
N_STEPS = len(PIMSLEUR_INTERVALS_DAYS)


@dataclass(frozen=True)
class PimsleurState:
    step: int = 0  # index into PIMSLEUR_INTERVALS_DAYS of the interval now being waited out
    due: datetime | None = None
    last_reviewed: datetime | None = None

    @property
    def interval_days(self) -> float:
        return PIMSLEUR_INTERVALS_DAYS[self.step]


def pimsleur_interval_days(step) -> np.ndarray:
    """Interval of step(s) 0..10, in days, vectorised."""
    step = np.asarray(step, dtype=int)
    if np.any((step < 0) | (step >= N_STEPS)):
        raise ValueError(f"step must be 0..{N_STEPS - 1}")
    return np.asarray(PIMSLEUR_INTERVALS_DAYS)[step]


def pimsleur_review(state: PimsleurState, correct: bool, reviewed_at: datetime) -> PimsleurState:
    """A correct answer advances one step (at most the 2-year one); a wrong one restarts."""
    step = min(state.step + 1, N_STEPS - 1) if correct else 0
    return replace(
        state,
        step=step,
        due=reviewed_at + timedelta(days=PIMSLEUR_INTERVALS_DAYS[step]),
        last_reviewed=reviewed_at,
    )


def predict_recall(state: PimsleurState | int, elapsed_days) -> np.ndarray | float:
    """p = 2^(−elapsed/interval) for a state (or a step number / array of steps)."""
    step = state.step if isinstance(state, PimsleurState) else state
    p = np.exp2(
        -np.maximum(np.asarray(elapsed_days, dtype=float), 0.0) / pimsleur_interval_days(step)
    )
    return float(p) if p.ndim == 0 else p
