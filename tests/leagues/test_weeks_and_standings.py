"""The pure parts: league week boundaries in a time zone, ranking, promotion slots, grouping."""

from datetime import UTC, date, datetime

import pytest

from apps.leagues.standings import (
    DEMOTION,
    PROMOTION,
    SAFE,
    Entry,
    fit_into,
    move_slots,
    rank,
    split_by_xp,
)
from apps.leagues.weeks import week_of

JOINED = datetime(2026, 11, 30, tzinfo=UTC)


def test_a_week_runs_monday_to_monday_at_the_day_start_hour_in_auckland():
    # Wednesday 2 December 2026 in Auckland (NZDT, UTC+13)
    week = week_of(datetime(2026, 12, 2, tzinfo=UTC), "Pacific/Auckland", 4)
    assert week.start == date(2026, 11, 30)
    assert week.starts_at == datetime(2026, 11, 29, 15, tzinfo=UTC)  # Mon 04:00 NZDT
    assert week.ends_at == datetime(2026, 12, 6, 15, tzinfo=UTC)


def test_the_same_instant_is_another_week_boundary_in_los_angeles():
    week = week_of(datetime(2026, 12, 2, tzinfo=UTC), "America/Los_Angeles", 4)
    assert week.starts_at == datetime(2026, 11, 30, 12, tzinfo=UTC)  # Mon 04:00 PST
    assert week.ends_at == datetime(2026, 12, 7, 12, tzinfo=UTC)


def test_early_monday_hours_still_belong_to_the_week_before():
    # Monday 7 December, 03:59 in Auckland: the scheduler's Sunday
    week = week_of(datetime(2026, 12, 6, 14, 59, tzinfo=UTC), "Pacific/Auckland", 4)
    assert week.start == date(2026, 11, 30)
    later = week_of(datetime(2026, 12, 6, 15, 0, tzinfo=UTC), "Pacific/Auckland", 4)
    assert later.start == date(2026, 12, 7)


def test_a_week_with_a_dst_change_is_an_hour_shorter():
    # Europe/Berlin springs forward on Sunday 29 March 2026
    week = week_of(datetime(2026, 3, 25, tzinfo=UTC), "Europe/Berlin", 4)
    assert (week.ends_at - week.starts_at).total_seconds() == 7 * 24 * 3600 - 3600


@pytest.mark.parametrize(
    ("size", "top", "bottom", "expected"),
    [
        (30, False, False, (5, 5)),
        (10, False, False, (2, 2)),
        (5, False, False, (1, 1)),
        (1, False, False, (1, 0)),
        (30, True, False, (0, 5)),  # Diamond: nobody above
        (30, False, True, (5, 0)),  # Bronze: nobody below
        (0, False, False, (0, 0)),
    ],
)
def test_move_slots(size, top, bottom, expected):
    assert move_slots(size, top_tier=top, bottom_tier=bottom) == expected


def test_rank_orders_by_xp_and_breaks_ties_by_who_joined_first():
    entries = [
        Entry("late", 50, datetime(2026, 12, 1, tzinfo=UTC)),
        Entry("early", 50, JOINED),
        Entry("top", 90, JOINED),
        *[Entry(f"m{n}", 10 + n, JOINED) for n in range(7)],
    ]
    standings = rank(entries, top_tier=False, bottom_tier=False)
    assert [s.key for s in standings[:3]] == ["top", "early", "late"]
    assert [s.rank for s in standings] == list(range(1, 11))
    zones = [s.zone for s in standings]
    assert zones == [PROMOTION] * 2 + [SAFE] * 6 + [DEMOTION] * 2


def test_a_learner_without_xp_is_never_promoted():
    standings = rank([Entry("idle", 0, JOINED)], top_tier=False, bottom_tier=True)
    assert [s.zone for s in standings] == [SAFE]


def test_split_by_xp_makes_even_leagues_of_neighbours():
    candidates = [(n, n * 10) for n in range(65)]
    groups = split_by_xp(candidates, size_max=30)
    assert [len(g) for g in groups] == [22, 22, 21]
    assert groups[0][0] == 64 and groups[-1][-1] == 0  # highest XP together, lowest together


def test_fit_into_prefers_the_league_nearest_in_xp_and_overflows_into_new_ones():
    leagues = [("low", 29, 10.0), ("high", 28, 500.0)]
    placed, new = fit_into([("a", 480), ("b", 490), ("c", 5), ("d", 470)], leagues, 30)
    assert placed == {"b": "high", "a": "high", "c": "low"}
    assert new == [["d"]]  # both leagues full: the worst fit starts a new one
