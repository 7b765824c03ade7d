"""Streaks: runs of consecutive practice days, the days being the learner's own local days."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from apps.learning.models import StudySession
from apps.learning.selectors import learner_streak, practice_dates
from apps.learning.streaks import streak_lengths
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.learning.factories import AttemptFactory
from tests.learning.helpers import PROGRESS_URL

UTC = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 6, 15)


def days_ago(*offsets: int) -> list[date]:
    return [TODAY - timedelta(days=n) for n in offsets]


# --- the pure rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        pytest.param([], (0, 0), id="never practised"),
        pytest.param(days_ago(0), (1, 1), id="today only"),
        pytest.param(days_ago(1), (1, 1), id="yesterday only: still alive"),
        pytest.param(days_ago(2), (0, 1), id="two days ago: broken"),
        pytest.param(days_ago(3, 2, 1, 0), (4, 4), id="four days running"),
        pytest.param(days_ago(4, 3, 1, 0), (2, 2), id="a gap restarts the run"),
        pytest.param(days_ago(3, 2, 1), (3, 3), id="alive until tonight"),
        pytest.param(days_ago(4, 3, 2), (0, 3), id="broken two days ago"),
        pytest.param(days_ago(12, 11, 10, 9, 8, 1, 0), (2, 5), id="longest is not current"),
        pytest.param(days_ago(0, 2, 1, 0, 1), (3, 3), id="unsorted, repeated days"),
    ],
)
def test_streak_lengths(dates, expected):
    assert streak_lengths(dates, TODAY) == expected


def runs_of(days: set[date]) -> list[tuple[date, int]]:
    """Each maximal run of consecutive days as (last day, length): a second, plain reading."""
    return [
        (day, next(n for n in range(1, len(days) + 2) if day - timedelta(days=n) not in days))
        for day in days
        if day + timedelta(days=1) not in days
    ]


@given(
    offsets=st.lists(st.integers(min_value=0, max_value=60), max_size=40),
    extra=st.lists(st.integers(min_value=0, max_value=60), max_size=5),
)
def test_streak_lengths_agree_with_counting_runs(offsets, extra):
    # Given any practice history up to today (in any order, with repeats)
    dates = days_ago(*offsets) + days_ago(*extra)
    days = set(dates)

    current, longest = streak_lengths(dates, TODAY)

    # Then longest is the longest run, and current the run ending today or yesterday (if any)
    runs = runs_of(days)
    assert longest == max((length for _, length in runs), default=0)
    alive = [length for last, length in runs if TODAY - last <= timedelta(days=1)]
    assert current == (alive[0] if alive else 0)
    assert 0 <= current <= longest <= len(days)
    assert streak_lengths(sorted(days, reverse=True), TODAY) == (current, longest)


# --- local days from stored attempts ------------------------------------------------------


def local(zone: ZoneInfo, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def practise(learner, *moments: datetime, session=None) -> None:
    atom = make_atom("mcq")
    for moment in moments:
        AttemptFactory(learner=learner, atom=atom, answered_at=moment, session=session)


@pytest.mark.django_db
def test_a_late_evening_in_new_york_counts_on_the_new_york_date():
    # Given a New Yorker practising at 23:30 local, already the next day in UTC
    learner = UserFactory(timezone="America/New_York")
    evening = local(NEW_YORK, date(2026, 11, 20), 23, 30)
    assert evening.astimezone(UTC).date() == date(2026, 11, 21)

    practise(learner, evening)

    # Then that practice is on their 20th
    assert practice_dates(learner) == [date(2026, 11, 20)]


@pytest.mark.django_db
def test_a_session_across_local_midnight_counts_both_days():
    # Given a session from 23:40 to 00:20, New York time
    learner = UserFactory(timezone="America/New_York")
    start = local(NEW_YORK, date(2026, 11, 19), 23, 40)
    session = StudySession.objects.create(learner=learner, started_at=start)

    practise(learner, start + timedelta(minutes=5), start + timedelta(minutes=35), session=session)

    # Then both local days are practice days: a two-day run
    assert practice_dates(learner) == [date(2026, 11, 19), date(2026, 11, 20)]
    assert streak_lengths(practice_dates(learner), date(2026, 11, 20)) == (2, 2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("zone_name", "first_day", "hour", "minute"),
    [
        # US spring forward, 2026-03-08 02:00 EST -> 03:00 EDT. At 00:30 on the 9th New York
        # is UTC-4; read with the winter offset it would fall on the 8th.
        pytest.param("America/New_York", date(2026, 3, 6), 0, 30, id="US spring forward"),
        # US fall back, 2026-11-01 02:00 EDT -> 01:00 EST.
        pytest.param("America/New_York", date(2026, 10, 30), 23, 30, id="US fall back"),
        # EU fall back, 2026-10-25 03:00 CEST -> 02:00 CET. At 23:30 on the 25th Berlin is
        # UTC+1; read with the summer offset it would fall on the 26th.
        pytest.param("Europe/Berlin", date(2026, 10, 23), 23, 30, id="EU fall back"),
        # EU spring forward, 2026-03-29 02:00 CET -> 03:00 CEST.
        pytest.param("Europe/Berlin", date(2026, 3, 27), 0, 30, id="EU spring forward"),
    ],
)
def test_days_around_a_dst_change_are_consecutive_local_days(zone_name, first_day, hour, minute):
    # Given a learner practising at the same local time on four days around a clock change
    zone = ZoneInfo(zone_name)
    learner = UserFactory(timezone=zone_name)
    days = [first_day + timedelta(days=n) for n in range(4)]

    practise(learner, *(local(zone, day, hour, minute) for day in days))

    # Then those are four consecutive practice days: a four-day streak
    assert practice_dates(learner) == days
    assert streak_lengths(practice_dates(learner), days[-1]) == (4, 4)
    assert learner_streak(learner)["longest_streak"] == 4


@pytest.mark.django_db
def test_the_hours_of_the_long_autumn_day_all_count_on_that_day():
    # Given practice at 00:30 and 23:30 on Berlin's 25-hour 2026-10-25
    learner = UserFactory(timezone="Europe/Berlin")
    day = date(2026, 10, 25)

    practise(learner, local(BERLIN, day, 0, 30), local(BERLIN, day, 23, 30))

    assert practice_dates(learner) == [day]


@pytest.mark.django_db
def test_changing_the_learners_timezone_moves_their_practice_dates():
    # Given practice at 03:30 UTC on 21 November: the 21st in London, the 20th in New York
    learner = UserFactory(timezone="Europe/London")
    practise(learner, datetime(2026, 11, 21, 3, 30, tzinfo=UTC))
    assert practice_dates(learner) == [date(2026, 11, 21)]

    # When the learner moves to New York
    learner.timezone = "America/New_York"
    learner.save(update_fields=["timezone"])

    # Then the same practice is on their 20th
    assert practice_dates(learner) == [date(2026, 11, 20)]
    assert learner_streak(learner)["timezone"] == "America/New_York"


@pytest.mark.django_db
def test_the_current_streak_is_counted_up_to_the_learners_today(learner_client, learner):
    # Given a learner in Auckland who practised yesterday and the day before, local time
    zone = ZoneInfo("Pacific/Auckland")
    learner.timezone = "Pacific/Auckland"
    learner.save(update_fields=["timezone"])
    today = timezone.now().astimezone(zone).date()
    practise(learner, *(local(zone, today - timedelta(days=n), 12) for n in (1, 2, 5)))

    # When they look at their progress
    streak = learner_client.get(PROGRESS_URL).json()["streak"]

    # Then the run ending yesterday is still alive, and the dates are Auckland dates
    assert streak["current_streak"] == 2
    assert streak["longest_streak"] == 2
    assert streak["timezone"] == "Pacific/Auckland"
    assert streak["practice_dates"] == [(today - timedelta(days=n)).isoformat() for n in (5, 2, 1)]


@pytest.mark.django_db
def test_a_streak_last_practised_two_local_days_ago_is_broken(learner):
    zone = ZoneInfo(learner.timezone)
    today = timezone.now().astimezone(zone).date()
    practise(learner, *(local(zone, today - timedelta(days=n), 12) for n in (2, 3, 4)))

    streak = learner_streak(learner)
    assert (streak["current_streak"], streak["longest_streak"]) == (0, 3)
