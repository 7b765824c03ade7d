"""IRT: response model, information, EAP, and MML calibration against published LSAT-6 fits.

Reference data: LSAT section 6 (Bock & Lieberman, 1970; Thissen, 1982), 5 items, 1000
examinees, as the 32 response-pattern frequencies of R ``ltm::LSAT`` / ``mirt::LSAT6``. The
item proportions correct (0.924, 0.709, 0.553, 0.763, 0.870, from mirt's ``itemstats``) and the
published log-likelihoods below are reproduced, which checks the table.

Reference estimates (logistic metric, θ ~ N(0, 1)):

* 2PL — ``summary(ltm(LSAT ~ z1))``: log-lik −2466.653, b, a and their SEs as in
  ``LSAT_2PL``; the same −2466.653 from ``mirt`` (QMCEM test in mirt's test suite).
* 1PL — ``rasch(LSAT)`` / ``mirt(..., CONSTRAIN = (1-5, a1))``: log-lik −2466.938, common
  a = 0.755 (mirt ``coef``: a1 = 0.755, d = 2.730, 0.999, 0.240, 1.307, 2.100, i.e.
  b = −d/a), b and SEs as in ``LSAT_1PL`` (ltm's printed summary).
* Rasch, a = 1 — ``rasch(LSAT, constraint = cbind(6, 1))``: log-lik −2473.054, b and SEs as in
  ``LSAT_RASCH`` (ltm's printed summary).

ltm integrates with 21 Gauss–Hermite points and stops BFGS at max|grad| ≈ 0.02, so its 2PL
estimates agree with a fully converged fit to about ±0.003; the SE machinery is also checked
independently against a finite-difference Hessian of the marginal log-likelihood.
"""

import itertools
import math
import warnings

import numpy as np
import pytest

from apps.scheduler.algorithms.irt import (
    C_PRIOR,
    calibrate,
    eap_ability,
    fisher_information,
    marginal_log_likelihood,
    p_correct,
)

LSAT6_PATTERNS = np.array(list(itertools.product([0, 1], repeat=5)), dtype=float)
LSAT6_COUNTS = np.array(
    [
        *(3, 6, 2, 11, 1, 1, 3, 4, 1, 8, 0, 16, 0, 3, 2, 15),  # item 1 wrong
        *(10, 29, 14, 81, 3, 28, 15, 80, 16, 56, 21, 173, 11, 61, 28, 298),  # item 1 right
    ],
    dtype=float,
)
LSAT_2PL = {
    "log_likelihood": -2466.653,
    "b": [-3.3597, -1.3696, -0.2799, -1.8659, -3.1236],
    "se_b": [0.8669, 0.3073, 0.0997, 0.4341, 0.8700],
    "a": [0.8254, 0.7229, 0.8905, 0.6886, 0.6575],
    "se_a": [0.2581, 0.1867, 0.2326, 0.1852, 0.2100],
}
LSAT_1PL = {
    "log_likelihood": -2466.938,
    "b": [-3.6153, -1.3224, -0.3176, -1.7301, -2.7802],
    "se_b": [0.3266, 0.1422, 0.0977, 0.1691, 0.2510],
    "a": 0.7551,
    "se_a": 0.0694,
}
LSAT_RASCH = {
    "log_likelihood": -2473.054,
    "b": [-2.8720, -1.0630, -0.2576, -1.3881, -2.2188],
    "se_b": [0.1287, 0.0821, 0.0766, 0.0865, 0.1048],
}


@pytest.fixture(scope="module")
def lsat_fits():
    return {
        model: calibrate(LSAT6_PATTERNS, LSAT6_COUNTS, model)
        for model in ("rasch", "1pl", "2pl", "3pl")
    }


def _simulate(rng, a, b, c, n_persons):
    theta = rng.standard_normal(n_persons)
    return (rng.random((n_persons, len(b))) < p_correct(theta, a, b, c)).astype(float)


# --- response model --------------------------------------------------------------------------


def test_p_correct_known_values():
    assert p_correct(0.3, 1.7, 0.3) == pytest.approx(0.5)
    assert p_correct(0.3, 1.7, 0.3, 0.2) == pytest.approx(0.6)  # c + (1 − c)/2
    # σ(ln 3) = 3/4, so θ = b + ln(3)/a gives 0.75, and 0.25 + 0.75·0.75 with c = 0.25
    assert p_correct(1 + math.log(3) / 2, 2.0, 1.0) == pytest.approx(0.75)
    assert p_correct(1 + math.log(3) / 2, 2.0, 1.0, 0.25) == pytest.approx(0.8125)
    assert p_correct(-0.5) == pytest.approx(1 / (1 + math.exp(0.5)))  # Rasch defaults


def test_p_correct_is_persons_by_items():
    theta = np.array([-1.0, 0.0, 2.0, 0.5])
    a, b, c = np.array([0.5, 1.0, 2.0]), np.array([0.0, 1.0, -1.0]), np.array([0.0, 0.1, 0.3])
    grid = p_correct(theta, a, b, c)
    assert grid.shape == (4, 3)
    for i, t in enumerate(theta):
        for j in range(3):
            expected = c[j] + (1 - c[j]) / (1 + math.exp(-a[j] * (t - b[j])))
            assert grid[i, j] == pytest.approx(expected, rel=1e-12)
    assert p_correct(0.0, a, b, c).shape == (3,)
    assert p_correct(theta, 1.0, 0.0).shape == (4,)


def test_p_correct_is_stable_at_extremes():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = p_correct(np.array([-1e4, 1e4]), 3.0, 0.0, 0.2)
        info = fisher_information(np.array([-1e4, 1e4]), 3.0, 0.0, 0.2)
    assert p == pytest.approx([0.2, 1.0])
    assert np.all(np.isfinite(info)) and np.all(info >= 0)


@pytest.mark.parametrize("c", [-0.1, 1.0, np.nan])
def test_p_correct_rejects_invalid_c(c):
    with pytest.raises(ValueError, match="c must"):
        p_correct(0.0, 1.0, 0.0, c)


def test_information_reduces_to_a2pq_without_guessing():
    theta = np.linspace(-4, 4, 17)
    a, b = np.array([0.7, 1.9]), np.array([-0.5, 1.2])
    p = p_correct(theta, a, b)
    np.testing.assert_allclose(fisher_information(theta, a, b), a**2 * p * (1 - p), rtol=1e-12)


def test_information_3pl_formula_and_score_variance():
    theta = np.linspace(-3, 3, 13)
    a, b, c = 1.4, 0.3, 0.2
    p = p_correct(theta, a, b, c)
    birnbaum = a**2 * ((1 - p) / p) * ((p - c) / (1 - c)) ** 2
    np.testing.assert_allclose(fisher_information(theta, a, b, c), birnbaum, rtol=1e-12)
    # Information of one Bernoulli response: P'(θ)² / (P·Q), P' by central differences.
    h = 1e-5
    slope = (p_correct(theta + h, a, b, c) - p_correct(theta - h, a, b, c)) / (2 * h)
    np.testing.assert_allclose(fisher_information(theta, a, b, c), slope**2 / (p * (1 - p)), 1e-7)


def test_information_peak_of_3pl_item():
    # Birnbaum (1968): the 3PL information peaks at θ = b + ln((1 + √(1 + 8c))/2) / a.
    a, b, c = 1.3, -0.4, 0.25
    theta = np.linspace(-3, 3, 600_001)
    peak = theta[np.argmax(fisher_information(theta, a, b, c))]
    assert peak == pytest.approx(b + math.log((1 + math.sqrt(1 + 8 * c)) / 2) / a, abs=1e-4)


# --- EAP ability -----------------------------------------------------------------------------


def _eap_by_dense_integration(pattern, a, b, c=0.0, mean=0.0, sd=1.0):
    theta = np.linspace(mean - 10 * sd, mean + 10 * sd, 400_001)
    p = p_correct(theta, a, b, c)
    like = np.prod(np.where(np.asarray(pattern) == 1, p, 1 - p), axis=1)
    weight = like * np.exp(-0.5 * ((theta - mean) / sd) ** 2)
    post_mean = (weight * theta).sum() / weight.sum()
    return post_mean, math.sqrt((weight * (theta - post_mean) ** 2).sum() / weight.sum())


def test_eap_matches_dense_numerical_integration():
    a, b, c = np.array(LSAT_2PL["a"]), np.array(LSAT_2PL["b"]), np.array([0, 0.2, 0, 0.1, 0])
    for pattern in ([0, 0, 0, 0, 0], [1, 0, 1, 1, 0], [1, 1, 1, 1, 1]):
        expected = _eap_by_dense_integration(pattern, a, b, c, mean=0.3, sd=1.2)
        got = eap_ability(np.array(pattern), a, b, c, prior_mean=0.3, prior_sd=1.2)
        assert got == pytest.approx(expected, abs=1e-5)  # the grid stops at ±6 prior SDs


def test_eap_matches_mirt_scores_for_lsat6_2pl():
    # mirt's test suite (QMCEM 2PL fit of LSAT6): EAP of patterns 00000, 00001, 00010 is
    # −1.8877, −1.4738, −1.4538. Those came with mirt's own (QMC) estimates; with ltm's 2PL
    # estimates the scores agree to about 0.01.
    a, b = np.array(LSAT_2PL["a"]), np.array(LSAT_2PL["b"])
    theta, se = eap_ability(LSAT6_PATTERNS[:3], a, b)
    np.testing.assert_allclose(theta, [-1.887714, -1.473829, -1.453797], atol=0.012)
    assert np.all((se > 0.79) & (se < 0.81))  # ltm's posterior SDs for these are 0.795–0.796


def test_eap_vectorised_equals_one_at_a_time_and_mask_drops_items():
    rng = np.random.default_rng(5)
    a, b = rng.uniform(0.5, 2, 12), rng.normal(size=12)
    u = _simulate(rng, a, b, 0.0, 40)
    mask = rng.random(u.shape) < 0.7
    theta, se = eap_ability(np.where(mask, u, np.nan), a, b, mask=mask)
    for i in range(len(u)):
        one = eap_ability(u[i, mask[i]], a[mask[i]], b[mask[i]])
        assert (theta[i], se[i]) == pytest.approx(one, abs=1e-12)


def test_eap_without_answers_returns_the_prior():
    nothing = [False, False, False]
    theta, se = eap_ability([1, 0, 1], 1.0, 0.0, mask=nothing, prior_mean=0.5, prior_sd=2.0)
    assert theta == pytest.approx(0.5, abs=1e-9) and se == pytest.approx(2.0, abs=1e-6)


def test_eap_is_monotone_in_the_score_and_se_shrinks_with_more_items():
    b = np.linspace(-2, 2, 9)
    scores = [eap_ability(np.r_[np.ones(k), np.zeros(9 - k)], 1.0, b)[0] for k in range(10)]
    assert np.all(np.diff(scores) > 0)
    short = eap_ability(np.array([1, 0]), 1.0, [0.0, 0.0])[1]
    long = eap_ability(np.tile([1, 0], 10), 1.0, np.zeros(20))[1]
    assert long < short < 1.0


def test_eap_rejects_non_binary_answers():
    with pytest.raises(ValueError, match="0 or 1"):
        eap_ability(np.array([1, 2]), 1.0, 0.0)


# --- calibration on LSAT-6 ---------------------------------------------------------------------


def test_lsat6_table_reproduces_published_margins():
    assert LSAT6_COUNTS.sum() == 1000
    np.testing.assert_allclose(
        LSAT6_COUNTS @ LSAT6_PATTERNS / 1000, [0.924, 0.709, 0.553, 0.763, 0.870]
    )


def test_lsat6_rasch_matches_ltm(lsat_fits):
    fit = lsat_fits["rasch"]
    assert fit.converged
    assert fit.log_likelihood == pytest.approx(LSAT_RASCH["log_likelihood"], abs=1e-3)
    np.testing.assert_allclose(fit.b, LSAT_RASCH["b"], atol=1e-3)
    np.testing.assert_allclose(fit.se_b, LSAT_RASCH["se_b"], atol=2e-4)
    np.testing.assert_array_equal(fit.a, 1.0)
    np.testing.assert_array_equal(fit.c, 0.0)
    assert np.all(np.isnan(fit.se_a)) and np.all(np.isnan(fit.se_c))


def test_lsat6_1pl_matches_ltm_and_mirt(lsat_fits):
    fit = lsat_fits["1pl"]
    assert fit.converged
    assert fit.log_likelihood == pytest.approx(LSAT_1PL["log_likelihood"], abs=1e-3)
    np.testing.assert_allclose(fit.a, LSAT_1PL["a"], atol=2e-4)
    np.testing.assert_allclose(fit.se_a, LSAT_1PL["se_a"], atol=2e-4)
    np.testing.assert_allclose(fit.b, LSAT_1PL["b"], atol=1e-3)
    np.testing.assert_allclose(fit.se_b, LSAT_1PL["se_b"], atol=2e-4)
    np.testing.assert_allclose(-fit.a * fit.b, [2.730, 0.999, 0.240, 1.307, 2.100], atol=1.5e-3)


def test_lsat6_2pl_matches_ltm(lsat_fits):
    fit = lsat_fits["2pl"]
    assert fit.converged
    assert fit.log_likelihood == pytest.approx(LSAT_2PL["log_likelihood"], abs=1e-3)
    assert fit.log_likelihood > lsat_fits["1pl"].log_likelihood > lsat_fits["rasch"].log_likelihood
    np.testing.assert_allclose(fit.a, LSAT_2PL["a"], atol=1.5e-3)
    np.testing.assert_allclose(fit.b, LSAT_2PL["b"], atol=4e-3)
    np.testing.assert_allclose(fit.se_a, LSAT_2PL["se_a"], rtol=0.01)
    np.testing.assert_allclose(fit.se_b, LSAT_2PL["se_b"], rtol=0.01)


def test_2pl_estimate_is_a_stationary_point_with_observed_information_ses(lsat_fits):
    """Independent of EM and of Louis's identity: central differences of the marginal
    log-likelihood in (a_1..a_5, b_1..b_5) at the estimate give a zero gradient, and the
    inverse of the negative finite-difference Hessian gives the reported SEs."""
    fit = lsat_fits["2pl"]
    x0 = np.r_[fit.a, fit.b]

    def loglik(x):
        return marginal_log_likelihood(LSAT6_PATTERNS, x[:5], x[5:], 0.0, LSAT6_COUNTS)

    h, n = 1e-4, len(x0)
    eye = np.eye(n) * h
    grad = np.array([(loglik(x0 + eye[i]) - loglik(x0 - eye[i])) / (2 * h) for i in range(n)])
    assert np.abs(grad).max() < 1e-3
    hess = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            hess[i, j] = (
                loglik(x0 + eye[i] + eye[j])
                - loglik(x0 + eye[i] - eye[j])
                - loglik(x0 - eye[i] + eye[j])
                + loglik(x0 - eye[i] - eye[j])
            ) / (4 * h * h)
    se = np.sqrt(np.diag(np.linalg.inv(-hess)))
    np.testing.assert_allclose(se[:5], fit.se_a, rtol=1e-3)
    np.testing.assert_allclose(se[5:], fit.se_b, rtol=1e-3)


def test_counts_are_equivalent_to_repeated_rows(lsat_fits):
    rows = np.repeat(LSAT6_PATTERNS, LSAT6_COUNTS.astype(int), axis=0)
    fit = calibrate(rows, None, "2pl")
    np.testing.assert_allclose(fit.a, lsat_fits["2pl"].a, atol=1e-6)
    np.testing.assert_allclose(fit.b, lsat_fits["2pl"].b, atol=1e-6)
    assert fit.log_likelihood == pytest.approx(lsat_fits["2pl"].log_likelihood, abs=1e-6)


def test_lsat6_3pl_keeps_c_inside_by_its_prior(lsat_fits):
    # Five easy items say almost nothing about c: the Beta(5, 17) prior keeps it near its mode.
    fit = lsat_fits["3pl"]
    mode = (C_PRIOR[0] - 1) / (sum(C_PRIOR) - 2)
    assert fit.converged
    assert np.all(np.abs(fit.c - mode) < 0.05)
    assert np.all(np.isfinite(fit.se_a) & np.isfinite(fit.se_b) & (fit.se_c > 0))
    assert fit.log_likelihood < lsat_fits["2pl"].log_likelihood + 1e-6


@pytest.mark.parametrize("model", ["rasch", "1pl", "2pl", "3pl"])
def test_em_objective_never_decreases(lsat_fits, model):
    trace = lsat_fits[model].objective_trace
    assert len(trace) == lsat_fits[model].iterations + 1
    assert np.all(np.diff(trace) >= -1e-9 * np.abs(trace[1:]))


def test_hitting_max_iter_reports_not_converged():
    fit = calibrate(LSAT6_PATTERNS, LSAT6_COUNTS, "2pl", max_iter=3)
    assert fit.iterations == 3 and not fit.converged


# --- parameter recovery ----------------------------------------------------------------------


def test_2pl_recovers_generating_parameters():
    rng = np.random.default_rng(2024)
    a, b = rng.uniform(0.6, 2.2, 20), rng.uniform(-2.0, 2.0, 20)
    fit = calibrate(_simulate(rng, a, b, 0.0, 3000), None, "2pl")
    assert fit.converged
    assert np.corrcoef(fit.a, a)[0, 1] > 0.95
    assert np.corrcoef(fit.b, b)[0, 1] > 0.99
    assert np.sqrt(np.mean((fit.a - a) ** 2)) < 0.12
    assert np.sqrt(np.mean((fit.b - b) ** 2)) < 0.10
    # The SEs are on the right scale: standardised errors look like N(0, 1) draws.
    assert np.all(np.abs((fit.a - a) / fit.se_a) < 4) and np.all(np.abs((fit.b - b) / fit.se_b) < 4)


@pytest.mark.parametrize(("model", "slope"), [("rasch", 1.0), ("1pl", 1.6)])
def test_one_parameter_models_recover_difficulties_and_common_slope(model, slope):
    rng = np.random.default_rng(7)
    b = rng.uniform(-2.0, 2.0, 20)
    fit = calibrate(_simulate(rng, slope, b, 0.0, 3000), None, model)
    assert fit.converged
    np.testing.assert_allclose(fit.a, slope, atol=0.08)
    assert np.corrcoef(fit.b, b)[0, 1] > 0.99
    assert np.abs(fit.b - b).max() < 0.2


def test_3pl_recovers_generating_parameters():
    rng = np.random.default_rng(3)
    a, b, c = rng.uniform(0.8, 2.0, 15), rng.uniform(-1.5, 2.0, 15), rng.uniform(0.1, 0.3, 15)
    fit = calibrate(_simulate(rng, a, b, c, 10_000), None, "3pl")
    assert fit.converged
    assert np.corrcoef(fit.a, a)[0, 1] > 0.9
    assert np.corrcoef(fit.b, b)[0, 1] > 0.98
    assert np.mean(np.abs(fit.c - c)) < 0.04
    for est, true, se in ((fit.a, a, fit.se_a), (fit.b, b, fit.se_b), (fit.c, c, fit.se_c)):
        assert np.all(np.abs((est - true) / se) < 4)


# --- input validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("responses", "counts", "model", "message"),
    [
        (np.array([[0, 1], [2, 0]]), None, "2pl", "0 or 1"),
        (np.array([[0, np.nan], [1, 0]]), None, "2pl", "0 or 1"),
        (np.array([[0], [1]]), None, "rasch", "at least 2 items"),
        (np.array([0, 1, 1]), None, "rasch", "2-D"),
        (np.array([[0, 1], [1, 1]]), None, "2pl", "all correct or all wrong"),
        (np.array([[0, 1], [1, 0]]), np.array([1.0]), "2pl", "one entry per row"),
        (np.array([[0, 1], [1, 0]]), np.array([1.0, -1.0]), "2pl", "non-negative"),
        (np.array([[0, 1], [1, 0]]), np.array([0.0, 0.0]), "2pl", "positive count"),
        (np.array([[0, 1], [1, 0]]), None, "4pl", "model must be"),
    ],
)
def test_calibrate_rejects_bad_input(responses, counts, model, message):
    with pytest.raises(ValueError, match=message):
        calibrate(responses, counts, model)
