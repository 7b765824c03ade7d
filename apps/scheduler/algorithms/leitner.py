"""The Leitner box system (Leitner, "So lernt man lernen", 1972) with five boxes.

A card starts in box 1. A correct answer moves it up one box (at most box 5), a wrong answer
sends it back to box 1; the next review is due after the interval of the box it is now in:
1, 2, 4, 8 and 16 days for boxes 1..5.

Leitner schedules but does not predict. For the evaluation the interval of the current box is
read as the half-life of an exponential forgetting curve, p = 2^(−elapsed/interval), the same
convention used for the SM-2 and Pimsleur baselines (Settles & Meeder, 2016, likewise read the
Leitner and Pimsleur intervals as half-lives).
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

LEITNER_INTERVALS_DAYS = (1, 2, 4, 8, 16)
N_BOXES = len(LEITNER_INTERVALS_DAYS)


@dataclass(frozen=True)
class LeitnerState:
    box: int = 1
    due: datetime | None = None
    last_reviewed: datetime | None = None

    @property
    def interval_days(self) -> int:
        return LEITNER_INTERVALS_DAYS[self.box - 1]

    def as_dict(self) -> dict:
        return {
            "algorithm": "leitner",
            "box": self.box,
            "due": self.due.isoformat() if self.due else None,
            "last_reviewed": self.last_reviewed.isoformat() if self.last_reviewed else None,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> "LeitnerState":
        if not data or data.get("algorithm") != "leitner":
            return cls()
        return cls(
            box=int(data["box"]),
            due=datetime.fromisoformat(data["due"]) if data.get("due") else None,
            last_reviewed=(
                datetime.fromisoformat(data["last_reviewed"]) if data.get("last_reviewed") else None
            ),
        )


def leitner_next_box(box: int, correct: bool) -> int:
    if not 1 <= box <= N_BOXES:
        raise ValueError(f"box must be 1..{N_BOXES}, got {box}")
    return min(box + 1, N_BOXES) if correct else 1


def leitner_review(state: LeitnerState, correct: bool, reviewed_at: datetime) -> LeitnerState:
    """The state after a correct or wrong answer at ``reviewed_at``."""
    box = leitner_next_box(state.box, correct)
    return replace(
        state,
        box=box,
        due=reviewed_at + timedelta(days=LEITNER_INTERVALS_DAYS[box - 1]),
        last_reviewed=reviewed_at,
    )


def leitner_interval_days(box) -> np.ndarray:
    """Interval of box(es) ``box`` (1..5), vectorised."""
    box = np.asarray(box, dtype=int)
    if np.any((box < 1) | (box > N_BOXES)):
        raise ValueError(f"box must be 1..{N_BOXES}")
    return np.asarray(LEITNER_INTERVALS_DAYS, dtype=float)[box - 1]


def predict_recall(state: LeitnerState | int, elapsed_days) -> np.ndarray | float:
    """p = 2^(−elapsed/interval) for a state (or a box number / array of box numbers)."""
    box = state.box if isinstance(state, LeitnerState) else state
    p = np.exp2(
        -np.maximum(np.asarray(elapsed_days, dtype=float), 0.0) / leitner_interval_days(box)
    )
    return float(p) if p.ndim == 0 else p
