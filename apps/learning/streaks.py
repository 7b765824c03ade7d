"""Streaks from practice dates (calendar days in the learner's own time zone). Pure.

**Streak freeze.** A missed local day is *kept* (the streak runs across it) when:

- it is a single missed day: the learner practised the day before and the day after (or, for
  the current streak, the day before is their last practice and the missed day is yesterday);
- no other day of its ISO week (Monday to Sunday) is kept: one freeze a week at most;
- the learner earned it: at least ``freeze_xp`` XP in the 7 local days before the missed day.

A kept day bridges the run but does not count as a practice day: 3 days, a kept day, then 3
days make a 6-day streak. Two missed days in a row always break it. Everything is derived from
the practice days and XP per day, so it needs no stored state and reads the same later.
"""

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from itertools import pairwise

FREEZE_LOOKBACK_DAYS = 7
_DAY = timedelta(days=1)


def freeze_earned(xp_by_day: Mapping[date, int], missed: date, freeze_xp: int) -> bool:
    """Whether the XP of the 7 days before ``missed`` earns a freeze for it."""
    return xp_before(xp_by_day, missed) >= freeze_xp


def xp_before(xp_by_day: Mapping[date, int], day: date) -> int:
    return sum(xp_by_day.get(day - n * _DAY, 0) for n in range(1, FREEZE_LOOKBACK_DAYS + 1))


def kept_days(
    practice_dates: Iterable[date], xp_by_day: Mapping[date, int], today: date, freeze_xp: int
) -> list[date]:
    """The missed days a freeze keeps (see the module docstring), oldest first."""
    days = sorted(set(practice_dates))
    candidates = [previous + _DAY for previous, day in pairwise(days) if day - previous == 2 * _DAY]
    if days and today - days[-1] == 2 * _DAY:
        candidates.append(today - _DAY)  # yesterday missed: today still keeps the streak alive
    kept, weeks = [], set()
    for missed in candidates:
        week = missed.isocalendar()[:2]
        if week not in weeks and freeze_earned(xp_by_day, missed, freeze_xp):
            kept.append(missed)
            weeks.add(week)
    return kept


def streak_lengths(
    practice_dates: list[date], today: date, kept: Iterable[date] = ()
) -> tuple[int, int]:
    """(current, longest) runs of consecutive practice days, bridged by ``kept`` days.

    The current streak is still alive if the last practice was today or yesterday (the learner
    has until their own midnight to keep it), or the day before yesterday when yesterday is
    kept.
    """
    days = sorted(set(practice_dates))
    if not days:
        return 0, 0
    kept = set(kept)
    longest = run = 1
    for previous, day in pairwise(days):
        bridged = day - previous == 2 * _DAY and previous + _DAY in kept
        run = run + 1 if day - previous == _DAY or bridged else 1
        longest = max(longest, run)
    gap = today - days[-1]
    alive = gap <= _DAY or (gap == 2 * _DAY and today - _DAY in kept)
    return (run if alive else 0), longest


def freeze_held(
    kept: Iterable[date], xp_by_day: Mapping[date, int], today: date, freeze_xp: int
) -> int:
    """1 when missing tomorrow would be kept (this week's freeze unused, or tomorrow starts a
    new week, and enough XP in the 7 days up to today), else 0."""
    tomorrow = today + _DAY
    week = tomorrow.isocalendar()[:2]
    if any(day.isocalendar()[:2] == week for day in kept):
        return 0
    return int(freeze_earned(xp_by_day, tomorrow, freeze_xp))
