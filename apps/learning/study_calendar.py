"""The due forecast and true retention on the learner's calendar. Pure: no Django.

Days are the scheduler's: a learner's day starts at ``day_start_hour`` local time
(``SCHEDULER_DAY_START_HOUR``, Anki's 4 by default; apps/scheduler/algorithms/calendar_days.py),
so the atoms due at 01:00 belong to the evening before, as the intervals the scheduler sets
count them.
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from apps.scheduler.algorithms.calendar_days import local_day


def due_per_day(
    due_epochs: np.ndarray, *, today: date, days: int, timezone: str, day_start_hour: int
) -> list[int]:
    """How many of ``due_epochs`` (seconds since 1970) fall on each of ``days`` learner days
    from ``today``: what is due before today (overdue) counts on today, what is due after the
    last day is left out. Each day's end is found in the learner's zone, so a DST change makes
    that day 23 or 25 hours long rather than moving the boundary."""
    zone = ZoneInfo(timezone)
    ends = np.array(
        [
            datetime.combine(
                today + timedelta(days=n), time(day_start_hour), tzinfo=zone
            ).timestamp()
            for n in range(1, days + 1)
        ]
    )
    slots = np.searchsorted(ends, np.asarray(due_epochs, dtype=float), side="right")
    return np.bincount(slots, minlength=days + 1)[:days].tolist()


def retention_by_month(
    answers: Iterable[tuple],
    first_answered: Mapping,
    *,
    timezone: str,
    day_start_hour: int,
) -> dict[tuple[int, int], tuple[int, int]]:
    """{(year, month): (reviews, recalled)} of ``answers`` (atom, answered_at, correct).

    A *review* is an answer on an atom the learner had already answered on an earlier day of
    theirs: its day is after the day of their first answer on the atom (``first_answered``:
    atom → that first answer's time). A first answer tests nothing remembered, and a repeat on
    the same day (a relapse drilled again within a session) tests short-term memory, not
    retention: like Anki's true retention, which counts review cards and leaves out learning
    and relearning steps. Recalled: the review was graded correct. Months are the review's day's.
    """
    first_day: dict = {}
    months: dict[tuple[int, int], list[int]] = {}
    for atom, answered_at, correct in answers:
        if atom not in first_day:
            first_day[atom] = local_day(first_answered[atom], timezone, day_start_hour)
        day = local_day(answered_at, timezone, day_start_hour)
        if day <= first_day[atom]:
            continue
        tally = months.setdefault((day.year, day.month), [0, 0])
        tally[0] += 1
        tally[1] += bool(correct)
    return {month: (reviews, recalled) for month, (reviews, recalled) in sorted(months.items())}
