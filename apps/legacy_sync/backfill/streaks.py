"""Streaks recomputed from migrated attempts, to compare with the ones v1 cached."""

from datetime import date

from apps.learning.selectors import practice_dates_by_learner
from apps.learning.streaks import streak_lengths


def streaks_recomputed(as_of: dict) -> dict:
    """{learner id: (current, longest)}; the current streak is counted as of the given day
    (v1's last practice date), or of the learner's last practice day when it is None."""
    days = practice_dates_by_learner(as_of)
    result = {}
    for learner_id, day in as_of.items():
        dates = days.get(learner_id, [])
        today: date | None = day or (dates[-1] if dates else None)
        result[learner_id] = streak_lengths(dates, today) if today else (0, 0)
    return result
