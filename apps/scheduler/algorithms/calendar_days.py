"""Elapsed time in the learner's calendar days, as Anki and srs-benchmark count it.

A day starts at ``day_start_hour`` local time (Anki's "next day starts at", 4 by default), so a
review at 23:00 and the next at 07:00 the following morning are one day apart, and two reviews
of the same local day are zero days apart, whatever the hours between them.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_DAY_START_HOUR = 4


def local_day(moment: datetime, timezone: str, day_start_hour: int = DEFAULT_DAY_START_HOUR):
    """The learner's calendar day (a date) that ``moment`` (aware) falls on."""
    if moment.tzinfo is None:
        raise ValueError("local_day needs an aware datetime.")
    local = moment.astimezone(ZoneInfo(timezone))
    return (local - timedelta(hours=day_start_hour)).date()


def elapsed_days(
    earlier: datetime,
    later: datetime,
    timezone: str,
    day_start_hour: int = DEFAULT_DAY_START_HOUR,
) -> int:
    """Whole calendar days from ``earlier`` to ``later`` in the learner's time zone (≥ 0)."""
    days = (
        local_day(later, timezone, day_start_hour) - local_day(earlier, timezone, day_start_hour)
    ).days
    return max(days, 0)
