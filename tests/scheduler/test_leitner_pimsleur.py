from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.scheduler.algorithms import leitner, pimsleur
from apps.scheduler.algorithms.leitner import LEITNER_INTERVALS_DAYS, LeitnerState, leitner_review
from apps.scheduler.algorithms.pimsleur import (
    PIMSLEUR_INTERVALS_DAYS,
    PimsleurState,
    pimsleur_review,
)

START = datetime(2024, 1, 1, tzinfo=UTC)


def _leitner_boxes(answers):
    state, boxes = LeitnerState(), []
    for correct in answers:
        state = leitner_review(state, correct, START)
        boxes.append(state.box)
    return boxes


def test_leitner_intervals():
    assert LEITNER_INTERVALS_DAYS == (1, 2, 4, 8, 16)


def test_leitner_correct_moves_up_to_box_five_and_wrong_back_to_one():
    assert _leitner_boxes([True] * 6) == [2, 3, 4, 5, 5, 5]
    assert _leitner_boxes([True, True, True, False, True]) == [2, 3, 4, 1, 2]
    assert _leitner_boxes([False, False]) == [1, 1]


def test_leitner_due_follows_the_box_interval():
    state = leitner_review(LeitnerState(box=3), True, START)
    assert state.box == 4 and state.interval_days == 8
    assert state.due == START + timedelta(days=8)
    assert state.last_reviewed == START


def test_leitner_state_round_trips_and_ignores_other_algorithms():
    state = leitner_review(LeitnerState(box=2), True, START)
    assert LeitnerState.from_dict(state.as_dict()) == state
    assert LeitnerState.from_dict({"algorithm": "sm2"}) == LeitnerState()
    assert LeitnerState.from_dict(None) == LeitnerState()


def test_leitner_predict_recall():
    assert leitner.predict_recall(LeitnerState(box=3), 4.0) == pytest.approx(0.5)
    assert leitner.predict_recall(LeitnerState(box=3), 8.0) == pytest.approx(0.25)
    assert leitner.predict_recall(1, 0.0) == 1.0
    np.testing.assert_allclose(
        leitner.predict_recall(np.array([1, 2, 5]), [1, 1, 32]), [0.5, 2**-0.5, 0.25]
    )
    with pytest.raises(ValueError):
        leitner.predict_recall(6, 1.0)


def test_pimsleur_intervals_in_seconds():
    seconds = [round(d * 86400) for d in PIMSLEUR_INTERVALS_DAYS]
    day = 86400
    assert seconds == [
        5,
        25,
        120,
        600,
        3600,
        5 * 3600,
        day,
        5 * day,
        25 * day,
        120 * day,
        730 * day,
    ]


def test_pimsleur_steps_advance_and_reset():
    state, steps = PimsleurState(), []
    for correct in [True] * 12 + [False, True]:
        state = pimsleur_review(state, correct, START)
        steps.append(state.step)
    assert steps == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 0, 1]
    assert state.due == START + timedelta(seconds=25)


def test_pimsleur_predict_recall():
    assert pimsleur.predict_recall(PimsleurState(step=6), 1.0) == pytest.approx(0.5)
    assert pimsleur.predict_recall(PimsleurState(step=8), 50.0) == pytest.approx(0.25)
    assert pimsleur.predict_recall(0, 5 / 86400) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        pimsleur.predict_recall(11, 1.0)


@settings(max_examples=100, deadline=None)
@given(
    answers=st.lists(st.booleans(), min_size=1, max_size=30),
    elapsed=st.floats(0.0, 10_000.0),
)
def test_property_intervals_positive_and_recall_a_probability(answers, elapsed):
    box_state, step_state = LeitnerState(), PimsleurState()
    for correct in answers:
        box_state = leitner_review(box_state, correct, START)
        step_state = pimsleur_review(step_state, correct, START)
        assert 1 <= box_state.box <= 5 and box_state.due > START
        assert 0 <= step_state.step <= 10 and step_state.due > START
        assert 0.0 <= leitner.predict_recall(box_state, elapsed) <= 1.0
        assert 0.0 <= pimsleur.predict_recall(step_state, elapsed) <= 1.0
