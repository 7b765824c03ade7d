"""League weeks: seven of the learner's scheduler days, Monday to Sunday, in their time zone.

A day starts at ``day_start_hour`` local time (``SCHEDULER_DAY_START_HOUR``, 4 by default, the
same days as the daily limits and the due forecast), so a week runs from Monday 04:00 to the
next Monday 04:00 local time, and XP earned at 01:00 on Monday night still counts for Sunday.
Pure: no Django, so the boundaries are tested without a database.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apps.scheduler.algorithms.calendar_days import local_day


@dataclass(frozen=True)
class Week:
    start: date  # the local Monday
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC, exclusive: the next Monday's day start


def week_of(moment: datetime, timezone: str, day_start_hour: int) -> Week:
    """The league week ``moment`` (aware) falls in, for a learner in ``timezone``. A DST change
    makes the week an hour shorter or longer; the boundaries are the local wall-clock ones."""
    day = local_day(moment, timezone, day_start_hour)
    monday = day - timedelta(days=day.weekday())
    zone = ZoneInfo(timezone)

    def boundary(local_date: date) -> datetime:
        return datetime.combine(local_date, time(day_start_hour), tzinfo=zone).astimezone(UTC)

    return Week(start=monday, starts_at=boundary(monday), ends_at=boundary(monday + timedelta(7)))
