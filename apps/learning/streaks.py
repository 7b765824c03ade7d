"""Streaks from practice dates (calendar days in the learner's own time zone). Pure."""

from datetime import date, timedelta
from itertools import pairwise


def streak_lengths(practice_dates: list[date], today: date) -> tuple[int, int]:
    """(current, longest) runs of consecutive practice days.

    The current streak is still alive if the last practice was today or yesterday (the learner
    has until their own midnight to keep it).
    """
    days = sorted(set(practice_dates))
    if not days:
        return 0, 0
    longest = run = 1
    for previous, day in pairwise(days):
        run = run + 1 if day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
    current = run if today - days[-1] <= timedelta(days=1) else 0
    return current, longest
