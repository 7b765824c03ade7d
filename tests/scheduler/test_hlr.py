import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.scheduler.algorithms.hlr import (
    MAX_HALF_LIFE_DAYS,
    MIN_HALF_LIFE_DAYS,
    _gradient,
    hlr_cold_start_interval_days,
    hlr_features,
    hlr_half_life,
    hlr_interval_days,
    hlr_loss,
    hlr_recall,
    hlr_select,
    hlr_target_half_life,
    hlr_train,
)
from apps.scheduler.evaluation.simulation import hlr_recovery, simulate_reviews


def test_recall_reference_values():
    assert hlr_recall(3.0, 3.0) == pytest.approx(0.5)
    assert hlr_recall(6.0, 3.0) == pytest.approx(0.25)
    assert hlr_recall(0.0, 3.0) == 1.0
    np.testing.assert_allclose(hlr_recall([1, 2, 4], [1, 1, 2]), [0.5, 0.25, 0.25])


def test_features():
    X = hlr_features([0, 3], [8, 0])
    np.testing.assert_allclose(X, [[1.0, 3.0, 1.0], [2.0, 1.0, 1.0]])
    X = hlr_features([0, 0, 0], [0, 0, 0], concept_index=[2, 0, -1], n_concepts=3)
    np.testing.assert_array_equal(X[:, 3:], [[0, 0, 1], [1, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"correct_counts": [1, 2], "wrong_counts": [1]},
        {"correct_counts": [-1], "wrong_counts": [0]},
        {"correct_counts": [1], "wrong_counts": [0], "n_concepts": 2},
        {"correct_counts": [1], "wrong_counts": [0], "concept_index": [2], "n_concepts": 2},
    ],
)
def test_features_reject_bad_input(kwargs):
    with pytest.raises(ValueError):
        hlr_features(**kwargs)


def test_half_life_is_two_to_the_x_theta_and_clipped_like_the_paper():
    X = hlr_features([3], [0])  # [2, 1, 1]
    assert hlr_half_life(X, np.array([1.0, 0.5, 0.5]))[0] == pytest.approx(2.0**3)
    assert hlr_half_life(X, np.array([100.0, 0, 0]))[0] == MAX_HALF_LIFE_DAYS == 274.0
    assert hlr_half_life(X, np.array([-100.0, 0, 0]))[0] == pytest.approx(MIN_HALF_LIFE_DAYS)
    assert pytest.approx(15.0) == MIN_HALF_LIFE_DAYS * 24 * 60


def test_target_half_life():
    # p = 0.5 after 2 days means a 2-day half-life; p is clipped before the log
    assert hlr_target_half_life(2.0, 0.5) == pytest.approx(2.0)
    assert hlr_target_half_life(1.0, 1.0) == MAX_HALF_LIFE_DAYS
    assert hlr_target_half_life(1.0, 0.0) == pytest.approx(-1.0 / math.log2(0.0001))


def test_interval_for_a_target_recall():
    assert hlr_interval_days(4.0, 0.5) == pytest.approx(4.0)
    assert hlr_recall(hlr_interval_days(4.0, 0.9), 4.0) == pytest.approx(0.9)
    with pytest.raises(ValueError):
        hlr_interval_days(4.0, 1.0)


@pytest.mark.parametrize(
    ("accuracy", "days"), [(1.0, 7), (0.85, 7), (0.849, 3), (0.6, 3), (0.599, 1), (0.0, 1)]
)
def test_cold_start_rule(accuracy, days):
    assert hlr_cold_start_interval_days(accuracy) == days


@pytest.mark.parametrize("recall_loss", ["log", "squared"])
def test_gradient_matches_finite_differences_of_the_loss(recall_loss):
    rng = np.random.default_rng(3)
    X = hlr_features(rng.integers(0, 6, 50), rng.integers(0, 4, 50))
    delta = rng.uniform(0.5, 5.0, 50)
    p = rng.uniform(0.2, 0.9, 50)
    h = hlr_target_half_life(delta, p)
    index = rng.integers(-1, 4, 50)  # four indicators, some rows without one
    theta = np.array([0.4, -0.2, 0.6, 0.3, -0.5, 0.1, 0.2])
    for alpha, l2 in ((0.01, 0.1), (0.0, 0.0)):
        grad = _gradient(X, delta, p, h, theta, alpha, l2, index, recall_loss)
        numeric = [
            (
                hlr_loss(X, delta, p, theta + e, alpha, l2, indicator_index=index,
                         recall_loss=recall_loss)
                - hlr_loss(X, delta, p, theta - e, alpha, l2, indicator_index=index,
                           recall_loss=recall_loss)
            )
            / 2e-6
            for e in np.eye(7) * 1e-6
        ]  # fmt: skip
        np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-8)


def test_l2_leaves_the_bias_alone():
    X, delta, p = hlr_features([1], [0]), np.array([1.0]), np.array([1.0])
    base = hlr_loss(X, delta, p, np.array([0.0, 0.0, 5.0]), l2=0.0)
    assert hlr_loss(X, delta, p, np.array([0.0, 0.0, 5.0]), l2=1.0) == pytest.approx(base)
    assert hlr_loss(X, delta, p, np.array([1.0, 0.0, 4.0]), l2=1.0) > hlr_loss(
        X, delta, p, np.array([1.0, 0.0, 4.0]), l2=0.0
    )
    with pytest.raises(ValueError, match="recall_loss"):
        hlr_loss(X, delta, p, np.zeros(3), recall_loss="absolute")


def test_sparse_indicators_equal_dense_indicator_columns():
    theta = np.array([0.5, -0.3, 1.0, 0.7, -0.4, 0.2])
    dense = hlr_features([1, 2, 0, 3], [0, 1, 2, 0], concept_index=[0, 2, -1, 1], n_concepts=3)
    sparse = hlr_features([1, 2, 0, 3], [0, 1, 2, 0])
    np.testing.assert_allclose(
        hlr_half_life(dense, theta), hlr_half_life(sparse, theta, [0, 2, -1, 1])
    )
    # without an index the indicator weights are ignored: an unseen item gets the shared part
    np.testing.assert_allclose(hlr_half_life(sparse, theta), hlr_half_life(sparse, theta[:3]))


def test_parameter_recovery_on_simulated_learners():
    result = hlr_recovery(n_learners=100, n_items=10, seed=1)
    assert result.half_life_correlation > 0.9
    np.testing.assert_allclose(result.fitted_theta, result.true_theta, atol=0.2)


def test_parameter_recovery_with_concept_indicators():
    theta = np.r_[1.0, -0.6, 0.5, np.linspace(-0.8, 0.8, 6)]
    sim = simulate_reviews(150, 6, theta, seed=4)
    model = hlr_train(sim.X, sim.delta_days, sim.recalled, alpha=0.0, l2=1e-4, seed=4)
    fitted = model.half_life(sim.X)
    assert np.corrcoef(fitted, sim.half_life_true)[0, 1] > 0.9


@pytest.mark.parametrize(
    ("alpha", "l2", "batch_size", "recall_loss"),
    [(0.0, 1e-3, None, "log"), (0.01, 0.1, None, "squared"), (0.0, 1e-4, 256, "log")],
)
def test_training_decreases_the_loss(alpha, l2, batch_size, recall_loss):
    sim = simulate_reviews(40, 5, seed=2)
    model = hlr_train(
        sim.X, sim.delta_days, sim.recalled, alpha=alpha, l2=l2, epochs=60,
        batch_size=batch_size, recall_loss=recall_loss,
    )  # fmt: skip
    assert len(model.loss_history) == 60
    initial = hlr_loss(
        sim.X, sim.delta_days, sim.recalled, np.zeros(3), alpha, l2, recall_loss=recall_loss
    )
    assert model.loss_history[-1] < model.loss_history[0] <= initial * 1.5
    assert model.loss_history[-1] < initial


def test_selection_chooses_on_the_later_rows_and_uses_indicators_that_help():
    # items differ a lot (per-item effects ±1.5 in log₂ half-life): indicators validate better
    n_items = 8
    theta = np.r_[1.0, -0.6, 0.5, np.linspace(-1.5, 1.5, n_items)]
    sim = simulate_reviews(60, n_items, theta, seed=6)
    shared = sim.X[:, :3]
    selection = hlr_select(
        shared, sim.delta_days, sim.recalled, indicator_index=sim.item, n_indicators=n_items,
        epochs=300,
    )  # fmt: skip
    assert selection.indicators
    assert selection.n_validation == round(0.2 * sim.recalled.size)
    assert selection.alpha in (0.0, 1e-4, 1e-3) and selection.l2 >= 0.0
    assert selection.model.theta.shape == (3 + n_items,)
    fitted = selection.model.half_life(shared, sim.item)
    assert np.corrcoef(np.log(fitted), np.log(sim.half_life_true))[0, 1] > 0.9
    # without item effects in the data, the indicators do not earn their place
    plain = simulate_reviews(60, n_items, seed=6)
    assert not hlr_select(
        plain.X, plain.delta_days, plain.recalled, indicator_index=plain.item,
        n_indicators=n_items, epochs=300, l2s=(1e-3,),
    ).indicators  # fmt: skip
    with pytest.raises(ValueError, match="at least 10"):
        hlr_select(shared[:5], sim.delta_days[:5], sim.recalled[:5])


def test_training_is_reproducible_and_warm_starts():
    sim = simulate_reviews(20, 5, seed=5)
    a = hlr_train(sim.X, sim.delta_days, sim.recalled, epochs=20, seed=9)
    b = hlr_train(sim.X, sim.delta_days, sim.recalled, epochs=20, seed=9)
    np.testing.assert_array_equal(a.theta, b.theta)
    warm = hlr_train(sim.X, sim.delta_days, sim.recalled, epochs=1, theta0=a.theta, lr=1e-9)
    np.testing.assert_allclose(warm.theta, a.theta, atol=1e-6)
    empty = hlr_train(np.zeros((0, 3)), [], [], epochs=5)
    assert empty.theta.shape == (3,) and empty.loss_history == []


@settings(max_examples=200, deadline=None)
@given(
    theta_correct=st.floats(0.0, 3.0),
    theta_wrong=st.floats(-3.0, 3.0),
    bias=st.floats(-5.0, 5.0),
    correct=st.integers(0, 500),
    extra=st.integers(0, 500),
    wrong=st.integers(0, 500),
)
def test_property_more_correct_answers_never_shorten_the_half_life(
    theta_correct, theta_wrong, bias, correct, extra, wrong
):
    theta = np.array([theta_correct, theta_wrong, bias])
    fewer, more = hlr_half_life(hlr_features([correct, correct + extra], [wrong, wrong]), theta)
    assert more >= fewer


@settings(max_examples=200, deadline=None)
@given(
    theta=st.lists(st.floats(-10, 10), min_size=3, max_size=3),
    correct=st.integers(0, 1000),
    wrong=st.integers(0, 1000),
    delta=st.floats(0.0, 10_000.0),
)
def test_property_half_life_bounded_and_recall_a_probability(theta, correct, wrong, delta):
    h = hlr_half_life(hlr_features([correct], [wrong]), np.array(theta))[0]
    assert MIN_HALF_LIFE_DAYS <= h <= MAX_HALF_LIFE_DAYS
    assert 0.0 <= hlr_recall(delta, h) <= 1.0
    assert hlr_interval_days(h, 0.9) > 0
