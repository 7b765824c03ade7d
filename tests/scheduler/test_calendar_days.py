from datetime import UTC, datetime

import pytest

from apps.scheduler.algorithms.calendar_days import elapsed_days, local_day


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_late_evening_then_next_morning_is_one_day():
    assert elapsed_days(at(10, 23), at(11, 7), "UTC") == 1


def test_morning_then_late_evening_of_the_same_day_is_zero_days():
    assert elapsed_days(at(10, 7), at(10, 23), "UTC") == 0


def test_the_day_starts_at_the_day_start_hour():
    # 02:00 still belongs to the previous day when days start at 04:00
    assert elapsed_days(at(10, 21), at(11, 2), "UTC", day_start_hour=4) == 0
    assert elapsed_days(at(10, 21), at(11, 2), "UTC", day_start_hour=0) == 1


def test_days_are_the_learners_local_days():
    # 22:30 UTC is already the next morning in Auckland (UTC+13 in March)
    assert local_day(at(10, 22, 30), "Pacific/Auckland").isoformat() == "2026-03-11"
    assert elapsed_days(at(10, 9), at(10, 22, 30), "Pacific/Auckland") == 1
    assert elapsed_days(at(10, 9), at(10, 22, 30), "UTC") == 0


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        local_day(datetime(2026, 3, 10, 9), "UTC")
