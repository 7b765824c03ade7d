import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from apps.scheduler.algorithms.scoring import (
    COMPONENTS,
    ScoreWeights,
    score_candidates,
    score_candidates_loop,
)

WEIGHTS = ScoreWeights(due=0.4, mastery_gap=0.2, difficulty_match=0.2, exploration=0.2)


def test_hand_computed_example():
    # ln(1 + N) = 4, so the UCB bonus is sqrt(4 / (1 + n)): 1 for n = 3, 2 for n = 0, ½ for 15
    total = math.exp(4.0) - 1.0
    overdue = [0.0, 2.0, np.nan, -3.0]
    mastery = [0.25, 1.0, np.nan, 0.5]
    p_correct = [0.75, 0.0, 1.0, np.nan]
    exposures = [3, 15, 0, 3]
    scores, components = score_candidates(overdue, mastery, p_correct, exposures, total, WEIGHTS)
    expected_components = [
        [0.5, 0.75, 1.0, 0.5],  # just due: (0+1)/(0+2); at target p; u = 1 → 1/2
        [0.75, 0.0, 0.0, 1 / 3],  # 2 days over: 3/4; p = 0 is the far end; u = ½ → 1/3
        [0.0, 1.0, 2 / 3, 2 / 3],  # never seen; unknown mastery; 1 − 0.25/0.75; u = 2 → 2/3
        [0.0, 0.5, 0.5, 0.5],  # not yet due; unknown p is neutral
    ]
    np.testing.assert_allclose(components, expected_components, rtol=1e-12)
    np.testing.assert_allclose(scores, [0.65, 0.3 + 0.2 / 3, 0.2 + 0.8 / 3, 0.3], rtol=1e-12)
    assert COMPONENTS == ("due", "mastery_gap", "difficulty_match", "exploration")


def test_shapes():
    n = 1000
    rng = np.random.default_rng(0)
    scores, components = score_candidates(
        rng.normal(size=n), rng.random(n), rng.random(n), rng.integers(0, 50, n), 5000
    )
    assert scores.shape == (n,) and components.shape == (n, 4)
    scores, components = score_candidates([], [], [], [], 0)
    assert scores.shape == (0,) and components.shape == (0, 4)


def test_loop_reference_gives_identical_results():
    n = 5000
    rng = np.random.default_rng(1)
    overdue = rng.normal(0, 10, n)
    overdue[rng.random(n) < 0.2] = np.nan
    mastery = rng.random(n)
    mastery[rng.random(n) < 0.1] = np.nan
    p = rng.random(n)
    p[rng.random(n) < 0.1] = np.nan
    exposures = rng.integers(0, 100, n)
    weights = ScoreWeights(0.5, 0.1, 0.3, 0.1, target_p=0.7, exploration_c=1.5, due_scale_days=2)
    vectorised = score_candidates(overdue, mastery, p, exposures, 12345, weights)
    looped = score_candidates_loop(overdue, mastery, p, exposures, 12345, weights)
    np.testing.assert_array_equal(vectorised[0], looped[0])
    np.testing.assert_array_equal(vectorised[1], looped[1])


def test_no_exposures_means_no_exploration_bonus():
    _, components = score_candidates([np.nan, 1.0], [0, 0], [0.5, 0.5], [0, 3], 0)
    np.testing.assert_array_equal(components[:, 3], [0.0, 0.0])


def test_mismatched_lengths_and_bad_weights():
    with pytest.raises(ValueError, match="same length"):
        score_candidates([1, 2], [0.5], [0.5, 0.5], [1, 1], 10)
    with pytest.raises(ValueError):
        ScoreWeights(1, 1, 1, 1, target_p=1.0)
    with pytest.raises(ValueError):
        ScoreWeights(1, 1, 1, 1, due_scale_days=0)


def test_more_overdue_is_more_urgent_and_the_score_ranks_it_first():
    scores, components = score_candidates([0, 1, 7, 30], [0.5] * 4, [0.75] * 4, [2] * 4, 100)
    assert np.all(np.diff(components[:, 0]) > 0) and components[-1, 0] < 1.0
    assert np.argmax(scores) == 3


finite_or_nan = st.one_of(st.floats(-1e4, 1e4), st.just(float("nan")))


@settings(max_examples=100, deadline=None)
@given(
    data=st.data(),
    n=st.integers(1, 30),
    total=st.integers(0, 10**6),
    target=st.floats(0.05, 0.95),
)
def test_property_components_in_unit_interval_and_score_bounded(data, n, total, target):
    overdue = data.draw(hnp.arrays(float, n, elements=finite_or_nan))
    mastery = data.draw(hnp.arrays(float, n, elements=st.floats(0, 1)))
    p = data.draw(hnp.arrays(float, n, elements=st.one_of(st.floats(0, 1), st.just(np.nan))))
    exposures = data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, 10**4)))
    weights = ScoreWeights(0.4, 0.2, 0.2, 0.2, target_p=target)
    scores, components = score_candidates(overdue, mastery, p, exposures, total, weights)
    assert np.all((components >= 0) & (components <= 1))
    assert np.all((scores >= 0) & (scores <= 1.0 + 1e-12))
    looped, _ = score_candidates_loop(overdue, mastery, p, exposures, total, weights)
    np.testing.assert_array_equal(scores, looped)
