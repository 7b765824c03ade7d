"""SM-2 (Wozniak, 1990) exactly as the product seed's ``SM2State.Update``.

The easiness factor is updated on every review (floor 1.3). Quality below 3 resets the
repetition count to 0 and the interval to 1 day; otherwise the intervals are 1, 6, then
``int(previous interval × new EF)``.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

MIN_EASINESS = 1.3


@dataclass(frozen=True)
class SM2State:
    easiness: float = 2.5
    repetitions: int = 0
    interval_days: int = 0
    due: datetime | None = None
    last_reviewed: datetime | None = None

    def as_dict(self) -> dict:
        return {
            "algorithm": "sm2",
            "easiness": self.easiness,
            "repetitions": self.repetitions,
            "interval_days": self.interval_days,
            "due": self.due.isoformat() if self.due else None,
            "last_reviewed": self.last_reviewed.isoformat() if self.last_reviewed else None,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> "SM2State":
        if not data or data.get("algorithm") != "sm2":
            return cls()
        return cls(
            easiness=float(data["easiness"]),
            repetitions=int(data["repetitions"]),
            interval_days=int(data["interval_days"]),
            due=datetime.fromisoformat(data["due"]) if data.get("due") else None,
            last_reviewed=(
                datetime.fromisoformat(data["last_reviewed"]) if data.get("last_reviewed") else None
            ),
        )


def sm2_review(state: SM2State, quality: int, reviewed_at: datetime) -> SM2State:
    """The state after a review of ``quality`` (0–5) at ``reviewed_at``."""
    if not 0 <= quality <= 5:
        raise ValueError(f"quality must be 0..5, got {quality}")
    lapse = 5 - quality
    easiness = max(MIN_EASINESS, state.easiness + 0.1 - lapse * (0.08 + lapse * 0.02))
    if quality < 3:
        repetitions, interval = 0, 1
    else:
        repetitions = state.repetitions + 1
        if repetitions == 1:
            interval = 1
        elif repetitions == 2:
            interval = 6
        else:
            interval = int(state.interval_days * easiness)
    return replace(
        state,
        easiness=easiness,
        repetitions=repetitions,
        interval_days=interval,
        due=reviewed_at + timedelta(days=interval),
        last_reviewed=reviewed_at,
    )
