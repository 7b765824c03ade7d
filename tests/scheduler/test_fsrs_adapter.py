import json
import random
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

import pytest
from fsrs import Card, Rating, Scheduler
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.scheduler.algorithms.fsrs_adapter import (
    fsrs_interval_days,
    fsrs_retrievability,
    fsrs_review,
    quality_to_fsrs_rating,
)

START = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


def _direct(ratings, start=START, **scheduler_kwargs):
    """Review a fresh card with py-fsrs directly, each review when the previous one is due."""
    scheduler = Scheduler(enable_fuzzing=False, **scheduler_kwargs)
    card, at, dues = Card(card_id=0, due=start), start, []
    for rating in ratings:
        card, _ = scheduler.review_card(card, Rating(rating), at)
        dues.append(card.due)
        at = card.due
    return card, dues


def _adapter(ratings, start=START, **kwargs):
    state, at, dues = None, start, []
    for rating in ratings:
        state, due = fsrs_review(state, rating, at, **kwargs)
        dues.append(due)
        at = due
    return state, dues


@pytest.mark.parametrize(("quality", "rating"), [(0, 1), (1, 1), (2, 1), (3, 2), (4, 3), (5, 4)])
def test_quality_mapping(quality, rating):
    assert quality_to_fsrs_rating(quality) == rating


@pytest.mark.parametrize("quality", [-1, 6])
def test_quality_mapping_rejects_out_of_range(quality):
    with pytest.raises(ValueError, match=r"0\.\.5"):
        quality_to_fsrs_rating(quality)


@pytest.mark.parametrize(
    "ratings", [[3, 3, 3, 3, 3], [4, 4, 4], [1, 3, 3, 2, 1, 3, 4], [2, 2, 2, 3, 1, 1, 3]]
)
def test_same_schedule_as_calling_py_fsrs_directly(ratings):
    card, direct_dues = _direct(ratings)
    state, adapter_dues = _adapter(ratings)
    assert adapter_dues == direct_dues
    assert {k: v for k, v in state.items() if k != "algorithm"} == card.to_dict()
    assert state["algorithm"] == "fsrs"


def test_desired_retention_and_maximum_interval_are_passed_through():
    ratings = [3, 3, 3, 3, 4, 4]
    _, direct = _direct(ratings, desired_retention=0.8, maximum_interval=30)
    _, adapted = _adapter(ratings, desired_retention=0.8, maximum_interval=30)
    assert adapted == direct
    assert max(b - a for a, b in pairwise(adapted)) <= timedelta(days=30)
    # a higher desired retention schedules the first review-state interval sooner
    _, loose = _adapter([4, 4])
    _, strict = _adapter([4, 4], desired_retention=0.97)
    assert strict[1] - strict[0] < loose[1] - loose[0]


def test_deterministic_without_fuzz():
    ratings = [3, 3, 3, 3, 3, 3, 3, 3]
    assert _adapter(ratings) == _adapter(ratings)


def test_fuzz_uses_the_package_fuzz():
    ratings = [3, 3, 3, 3, 3, 3]
    random.seed(7)
    _, adapted = _adapter(ratings, fuzz=True)
    random.seed(7)
    scheduler = Scheduler(enable_fuzzing=True)
    card, at, direct = Card(card_id=0, due=START), START, []
    for rating in ratings:
        card, _ = scheduler.review_card(card, Rating(rating), at)
        direct.append(card.due)
        at = card.due
    assert adapted == direct


def test_state_is_json_serialisable_and_round_trips():
    state, _ = _adapter([3, 3, 1])
    restored = json.loads(json.dumps(state))
    assert restored == state
    again_from_json, _ = fsrs_review(restored, 3, START + timedelta(days=30))
    again_from_state, _ = fsrs_review(state, 3, START + timedelta(days=30))
    assert again_from_json == again_from_state


def test_state_of_another_algorithm_starts_a_new_card():
    sm2_state = {"algorithm": "sm2", "easiness": 2.5, "repetitions": 3, "interval_days": 10}
    assert fsrs_review(sm2_state, 3, START) == fsrs_review(None, 3, START)
    assert fsrs_retrievability(sm2_state, START) == 0.0


def test_non_utc_times_are_converted_and_naive_times_rejected():
    plus_two = timezone(timedelta(hours=2))
    state, due = fsrs_review(None, 3, START.astimezone(plus_two))
    assert (state, due) == fsrs_review(None, 3, START)
    assert due.tzinfo == UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        fsrs_review(None, 3, datetime(2024, 1, 1))


@pytest.mark.parametrize("rating", [0, 5, -1])
def test_invalid_rating(rating):
    with pytest.raises(ValueError, match=r"1\.\.4"):
        fsrs_review(None, rating, START)


def test_retrievability_matches_the_package():
    state, _ = _adapter([3, 3, 3])
    card = Card.from_dict(state)
    scheduler = Scheduler()
    for days in (0, 1, 3, 10, 100):
        at = card.last_review + timedelta(days=days, hours=5)
        assert fsrs_retrievability(state, at) == pytest.approx(
            scheduler.get_card_retrievability(card, at)
        )
        whole = card.last_review + timedelta(days=days)
        assert fsrs_retrievability(state, whole, exact_elapsed=True) == pytest.approx(
            scheduler.get_card_retrievability(card, whole)
        )
    # exact elapsed time falls within the day; whole days do not
    an_hour = card.last_review + timedelta(hours=12)
    assert fsrs_retrievability(state, an_hour) == 1.0
    assert fsrs_retrievability(state, an_hour, exact_elapsed=True) < 1.0
    assert fsrs_retrievability(None, START) == 0.0


def test_retrievability_at_the_scheduled_interval_is_the_desired_retention():
    state, due = _adapter([3, 3, 3, 3])
    # intervals are rounded to whole days, so allow a little slack around 0.9
    assert fsrs_retrievability(state, due[-1]) == pytest.approx(0.9, abs=0.01)
    assert fsrs_interval_days(state) == (due[-1] - due[-2]).total_seconds() / 86400


@settings(max_examples=60, deadline=None)
@given(
    ratings=st.lists(st.integers(1, 4), min_size=1, max_size=10),
    gaps=st.lists(st.floats(0.0, 400.0), min_size=10, max_size=10),
)
def test_property_intervals_positive_and_retrievability_a_probability(ratings, gaps):
    state, at = None, START
    for rating, gap in zip(ratings, gaps, strict=False):
        state, due = fsrs_review(state, rating, at)
        assert due > at
        later = at + timedelta(days=gap)
        for exact in (False, True):
            assert 0.0 <= fsrs_retrievability(state, later, exact_elapsed=exact) <= 1.0
        at = later
