import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from fsrs import Card, Rating, Scheduler
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.scheduler.management.commands.scheduler_simulate import simulate

START = "2024-01-01T00:00:00+00:00"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def run(*args) -> list[dict]:
    out = StringIO()
    call_command("scheduler_simulate", *args, stdout=out)
    return json.loads(out.getvalue())


def intervals(schedule):
    return [row["interval_days"] for row in schedule]


def test_sm2_hand_checked_sequence():
    schedule = run("--algorithm", "sm2", "--ratings", "5,5,5,5", "--start", START)
    # EF 2.5 → 2.6 → 2.7 → 2.8 → 2.9; intervals 1, 6, int(6 × 2.8) = 16, int(16 × 2.9) = 46
    assert intervals(schedule) == [1.0, 6.0, 16.0, 46.0]
    assert [row["due"] for row in schedule] == [
        "2024-01-02T00:00:00+00:00",
        "2024-01-08T00:00:00+00:00",
        "2024-01-24T00:00:00+00:00",
        "2024-03-10T00:00:00+00:00",
    ]
    assert [(row["review"], row["rating"]) for row in schedule] == [(1, 5), (2, 5), (3, 5), (4, 5)]


def test_sm2_lapse_resets():
    schedule = run("--algorithm", "sm2", "--ratings", "4,4,2,4,4", "--start", START)
    # EF after 4,4: 2.5, 2.5; after 2: 2.18; 4: 2.18; intervals 1, 6, 1, 1, 6
    assert intervals(schedule) == [1.0, 6.0, 1.0, 1.0, 6.0]


def test_fsrs_without_fuzz_equals_the_package():
    ratings = [3, 3, 3, 1, 3, 4, 2]
    schedule = run(
        "--algorithm",
        "fsrs",
        "--ratings",
        ",".join(map(str, ratings)),
        "--start",
        START,
        "--no-fuzz",
    )
    scheduler = Scheduler(enable_fuzzing=False)
    card, at = Card(card_id=0, due=T0), T0
    for row, rating in zip(schedule, ratings, strict=True):
        card, _ = scheduler.review_card(card, Rating(rating), at)
        assert row["due"] == card.due.isoformat()
        assert row["interval_days"] == (card.due - at).total_seconds() / 86400
        at = card.due
    # learning steps of 10 minutes, then day-scale intervals
    assert schedule[0]["interval_days"] == pytest.approx(10 / 1440)
    assert schedule[2]["interval_days"] >= 1


def test_fsrs_is_deterministic_by_default_and_reviews_chain():
    args = ("--algorithm", "fsrs", "--ratings", "3,3,3,3,3,3", "--start", START)
    schedule = run(*args)
    assert run(*args) == schedule == run(*args, "--no-fuzz")
    assert run(*args, "--fuzz")[-1]["interval_days"] > 0
    at = T0
    for row in schedule:
        assert row["interval_days"] > 0
        assert datetime.fromisoformat(row["due"]) == at + timedelta(days=row["interval_days"])
        at = datetime.fromisoformat(row["due"])


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        ("1,1,1,1,1,1,0", [2, 4, 8, 16, 16, 16, 1]),  # 0/1 = wrong/correct
        ("5,4,2,3", [2, 4, 1, 2]),  # 0..5: ≥ 3 is correct
        ("0,0", [1, 1]),
    ],
)
def test_leitner(ratings, expected):
    assert (
        intervals(run("--algorithm", "leitner", "--ratings", ratings, "--start", START)) == expected
    )


def test_hlr_cold_start_rule():
    schedule = run("--algorithm", "hlr", "--ratings", "1,1,0,1,0,0", "--start", START)
    # accuracy so far: 1, 1, 2/3, 3/4, 3/5, 1/2
    assert intervals(schedule) == [7, 7, 3, 3, 3, 1]
    assert intervals(run("--algorithm", "hlr", "--ratings", "5,4,3,1", "--start", START)) == [
        7,
        7,
        7,
        3,
    ]


def test_default_start_is_now_and_naive_start_is_utc():
    before = datetime.now(UTC)
    first = run("--algorithm", "sm2", "--ratings", "4")[0]
    due = datetime.fromisoformat(first["due"])
    assert before + timedelta(days=1) <= due <= datetime.now(UTC) + timedelta(days=1)
    naive = run("--algorithm", "sm2", "--ratings", "4", "--start", "2024-01-01T00:00:00")[0]
    assert naive["due"] == "2024-01-02T00:00:00+00:00"


@pytest.mark.parametrize(
    ("algorithm", "ratings", "message"),
    [
        ("fsrs", "0,3", "1..4"),
        ("fsrs", "3,5", "1..4"),
        ("sm2", "6", "0..5"),
        ("sm2", "-1", "0..5"),
        ("leitner", "7", "0..5"),
        ("hlr", "9", "0..5"),
        ("sm2", "a,b", "0..5"),
        ("fsrs", "", "1..4"),
    ],
)
def test_invalid_ratings_name_the_allowed_range(algorithm, ratings, message):
    with pytest.raises(CommandError, match=message):
        run("--algorithm", algorithm, "--ratings", ratings, "--start", START)


def test_bad_start_and_unknown_algorithm():
    with pytest.raises(CommandError, match="ISO 8601"):
        run("--algorithm", "sm2", "--ratings", "4", "--start", "yesterday")
    with pytest.raises(CommandError):
        run("--algorithm", "anki", "--ratings", "4")


@settings(max_examples=50, deadline=None)
@given(
    algorithm=st.sampled_from(["sm2", "fsrs", "leitner", "hlr"]),
    data=st.data(),
)
def test_property_intervals_positive_and_reviews_at_the_previous_due(algorithm, data):
    low, high = {"sm2": (0, 5), "fsrs": (1, 4), "leitner": (0, 5), "hlr": (0, 5)}[algorithm]
    ratings = data.draw(st.lists(st.integers(low, high), min_size=1, max_size=12))
    schedule = simulate(algorithm, ratings, T0, fuzz=data.draw(st.booleans()))
    at = T0
    for n, row in enumerate(schedule, start=1):
        assert row["review"] == n and row["interval_days"] > 0
        due = datetime.fromisoformat(row["due"])
        assert (
            due - at == timedelta(days=row["interval_days"])
            or abs((due - at).total_seconds() - row["interval_days"] * 86400) < 1e-3
        )
        at = due
