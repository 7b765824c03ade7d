"""Bayesian Knowledge Tracing: update rule by hand, invariants, and Baum–Welch EM."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.scheduler.algorithms.bkt import (
    EPS,
    MAX_GUESS,
    BKTParams,
    bkt_fit_em,
    bkt_log_likelihood,
    bkt_predict,
    bkt_update,
)

PARAMS = BKTParams(p_init=0.4, p_transit=0.1, p_guess=0.2, p_slip=0.1)


def _simulate(rng, params: BKTParams, n_learners: int, n_steps: int) -> np.ndarray:
    known = rng.random(n_learners) < params.p_init
    out = np.empty((n_learners, n_steps))
    for t in range(n_steps):
        p_right = np.where(known, 1 - params.p_slip, params.p_guess)
        out[:, t] = rng.random(n_learners) < p_right
        known |= rng.random(n_learners) < params.p_transit
    return out


def _log_likelihood_by_enumeration(sequence, params: BKTParams) -> float:
    """Sum over every hidden path (0 = unknown, 1 = known) of P(path)·P(answers | path)."""
    total = 0.0
    for path in itertools.product([0, 1], repeat=len(sequence)):
        prob = params.p_init if path[0] else 1 - params.p_init
        for before, after in itertools.pairwise(path):
            if before:
                prob *= float(after == 1)  # no forgetting
            else:
                prob *= params.p_transit if after else 1 - params.p_transit
        for state, answer in zip(path, sequence, strict=True):
            p_right = 1 - params.p_slip if state else params.p_guess
            prob *= p_right if answer else 1 - p_right
        total += prob
    return math.log(total)


# --- update rule -----------------------------------------------------------------------------


def test_update_after_a_correct_answer_by_hand():
    # P(K)=0.4, slip 0.1, guess 0.2:
    #   P(K | correct) = 0.4·0.9 / (0.4·0.9 + 0.6·0.2) = 0.36 / (0.36 + 0.12) = 0.36/0.48 = 0.75
    #   learn (T = 0.1): 0.75 + 0.25·0.1 = 0.775
    assert bkt_update(0.4, True, PARAMS) == pytest.approx(0.775, abs=1e-12)
    assert bkt_update(0.4, 1, PARAMS) == pytest.approx(0.775, abs=1e-12)


def test_update_after_a_wrong_answer_by_hand():
    #   P(K | wrong) = 0.4·0.1 / (0.4·0.1 + 0.6·0.8) = 0.04 / (0.04 + 0.48) = 0.04/0.52 = 1/13
    #   learn: 1/13 + (12/13)·0.1 = (1 + 1.2)/13 = 2.2/13 ≈ 0.1692308
    assert bkt_update(0.4, False, PARAMS) == pytest.approx(2.2 / 13, abs=1e-12)


def test_predict_by_hand():
    # P(correct) = 0.4·(1 − 0.1) + 0.6·0.2 = 0.36 + 0.12 = 0.48
    assert bkt_predict(0.4, PARAMS) == pytest.approx(0.48, abs=1e-12)
    assert bkt_predict(0.0, PARAMS) == pytest.approx(0.2)  # guess
    assert bkt_predict(1.0, PARAMS) == pytest.approx(0.9)  # 1 − slip


def test_certain_beliefs_stay_certain_before_learning():
    assert bkt_update(1.0, False, PARAMS) == 1.0  # known stays known (no forgetting)
    assert bkt_update(0.0, True, PARAMS) == pytest.approx(PARAMS.p_transit)  # only learning


@pytest.mark.parametrize("p_known", [-0.01, 1.01, math.nan])
def test_update_and_predict_reject_bad_beliefs(p_known):
    with pytest.raises(ValueError, match="p_known"):
        bkt_update(p_known, True, PARAMS)
    with pytest.raises(ValueError, match="p_known"):
        bkt_predict(p_known, PARAMS)


def test_update_rejects_non_binary_observation():
    with pytest.raises(ValueError, match="correct"):
        bkt_update(0.5, 2, PARAMS)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"p_guess": 0.5}, "p_guess must be < 0.5"),
        ({"p_slip": 0.6}, "p_slip must be < 0.5"),
        ({"p_init": 0.0}, r"p_init must lie in \(0, 1\)"),
        ({"p_transit": 1.0}, r"p_transit must lie in \(0, 1\)"),
        ({"p_guess": -0.1}, r"p_guess must lie in \(0, 1\)"),
        ({"p_slip": math.nan}, r"p_slip must lie in \(0, 1\)"),
    ],
)
def test_params_are_validated(kwargs, message):
    values = {"p_init": 0.3, "p_transit": 0.1, "p_guess": 0.2, "p_slip": 0.1} | kwargs
    with pytest.raises(ValueError, match=message):
        BKTParams(**values)


probability = st.floats(min_value=1e-4, max_value=1 - 1e-4)
below_half = st.floats(min_value=1e-4, max_value=0.4999)
params_strategy = st.builds(
    BKTParams, p_init=probability, p_transit=probability, p_guess=below_half, p_slip=below_half
)


@settings(max_examples=200, deadline=None)
@given(
    params=params_strategy,
    p_known=st.floats(min_value=0.0, max_value=1.0),
    answers=st.lists(st.booleans(), max_size=30),
)
def test_beliefs_and_predictions_stay_probabilities(params, p_known, answers):
    p = p_known
    for answer in answers:
        predicted = bkt_predict(p, params)
        assert 0.0 <= predicted <= 1.0
        # guess < 0.5 < 1 − slip: a correct answer never lowers the belief, a wrong one never
        # leaves it higher than a correct one would.
        after_right, after_wrong = bkt_update(p, True, params), bkt_update(p, False, params)
        assert 0.0 <= after_wrong <= after_right <= 1.0
        assert after_right >= p - 1e-12
        p = after_right if answer else after_wrong


# --- likelihood and EM -----------------------------------------------------------------------


def test_forward_algorithm_matches_enumeration_of_hidden_paths():
    sequences = [[0, 1, 1, 0, 1], [1, 1], [0, 0, 0, 1, 1, 1, 1], [1]]
    expected = sum(_log_likelihood_by_enumeration(s, PARAMS) for s in sequences)
    assert bkt_log_likelihood([np.array(s) for s in sequences], PARAMS) == pytest.approx(
        expected, abs=1e-12
    )


@pytest.fixture(scope="module")
def generating():
    return BKTParams(p_init=0.3, p_transit=0.15, p_guess=0.2, p_slip=0.1)


@pytest.fixture(scope="module")
def simulated_fit(generating):
    rng = np.random.default_rng(42)
    data = _simulate(rng, generating, 2000, 15)
    return bkt_fit_em(list(data))


def test_em_recovers_generating_parameters(generating, simulated_fit):
    assert simulated_fit.converged
    got, true = simulated_fit.params, generating
    for name in ("p_init", "p_transit", "p_guess", "p_slip"):
        assert getattr(got, name) == pytest.approx(getattr(true, name), abs=0.05), name


def test_em_log_likelihood_never_decreases(simulated_fit):
    trace = simulated_fit.log_likelihood_trace
    assert len(trace) == simulated_fit.iterations + 1
    assert np.all(np.diff(trace) >= -1e-9 * np.abs(trace[1:]))
    assert trace[-1] > trace[0]


def test_em_log_likelihood_is_that_of_the_fitted_parameters(simulated_fit):
    rng = np.random.default_rng(42)
    data = _simulate(rng, BKTParams(0.3, 0.15, 0.2, 0.1), 2000, 15)  # the same draws
    assert simulated_fit.log_likelihood == pytest.approx(
        bkt_log_likelihood(list(data), simulated_fit.params), abs=1e-9
    )


def test_em_handles_sequences_of_different_lengths(generating):
    rng = np.random.default_rng(11)
    data = _simulate(rng, generating, 1500, 20)
    lengths = rng.integers(0, 21, size=len(data))  # includes empty sequences, ignored
    ragged = [row[:n] for row, n in zip(data, lengths, strict=True)]
    fit = bkt_fit_em(ragged)
    assert fit.converged
    assert fit.params.p_guess == pytest.approx(generating.p_guess, abs=0.05)
    assert fit.params.p_slip == pytest.approx(generating.p_slip, abs=0.05)
    assert np.all(np.diff(fit.log_likelihood_trace) >= -1e-9 * np.abs(fit.log_likelihood_trace[1:]))


def test_em_enforces_guess_and_slip_below_one_half():
    # Learners who do not know the concept still answer 75% right: the likelihood keeps growing
    # with guess past 0.5, so the constrained fit sits on the bound; EM stays monotone.
    rng = np.random.default_rng(9)
    n, steps = 2000, 15
    known = rng.random(n) < 0.2
    data = np.empty((n, steps))
    for t in range(steps):
        data[:, t] = rng.random(n) < np.where(known, 0.97, 0.75)
        known |= rng.random(n) < 0.05
    fit = bkt_fit_em(list(data), init=BKTParams(0.2, 0.05, 0.45, 0.03))
    assert fit.params.p_guess == MAX_GUESS
    assert EPS <= fit.params.p_slip < 0.5
    trace = fit.log_likelihood_trace
    assert np.all(np.diff(trace) >= -1e-9 * np.abs(trace[1:]))
    # A free guess would have fitted better: moving guess down from the bound lowers the fit.
    lower = BKTParams(fit.params.p_init, fit.params.p_transit, 0.45, fit.params.p_slip)
    assert bkt_log_likelihood(list(data), lower) < fit.log_likelihood


def test_em_stops_at_max_iter():
    rng = np.random.default_rng(1)
    data = _simulate(rng, BKTParams(0.3, 0.15, 0.2, 0.1), 300, 10)
    fit = bkt_fit_em(list(data), max_iter=2)
    assert fit.iterations == 2 and not fit.converged and len(fit.log_likelihood_trace) == 3


@pytest.mark.parametrize(
    ("sequences", "message"),
    [([], "non-empty"), ([np.array([])], "non-empty"), ([np.array([0, 1, 2])], "0 or 1")],
)
def test_em_rejects_bad_sequences(sequences, message):
    with pytest.raises(ValueError, match=message):
        bkt_fit_em(sequences)
