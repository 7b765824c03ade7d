"""IRT from sparse practice: MML that skips unanswered cells, and linking between calibrations.

LSAT-6 is the table of test_irt.py (Bock & Lieberman, 1970; ltm::LSAT).
"""

import numpy as np
import pytest

from apps.scheduler.algorithms.irt import (
    Link,
    calibrate,
    calibration_on_scale,
    eap_ability,
    link_mean_sigma,
    marginal_log_likelihood,
    p_correct,
)
from tests.scheduler.test_irt import LSAT6_COUNTS, LSAT6_PATTERNS

LSAT6_ROWS = np.repeat(LSAT6_PATTERNS, LSAT6_COUNTS.astype(int), axis=0)  # 1000 × 5


def _blank(rng, shape, share: float) -> np.ndarray:
    """A mask with exactly ``share`` of the cells blanked (False), chosen at random."""
    mask = np.ones(int(np.prod(shape)), dtype=bool)
    mask[rng.choice(mask.size, round(share * mask.size), replace=False)] = False
    return mask.reshape(shape)


@pytest.fixture(scope="module")
def lsat_complete():
    return calibrate(LSAT6_PATTERNS, LSAT6_COUNTS, "2pl")


# --- calibration with missing responses --------------------------------------------------------


def test_2pl_recovers_parameters_with_60_percent_of_cells_missing():
    # given 3,000 learners × 20 atoms simulated from a 2PL, 60% of the cells missing at random
    rng = np.random.default_rng(18)
    a, b = rng.uniform(0.6, 2.2, 20), rng.uniform(-2.0, 2.0, 20)
    theta = rng.standard_normal(3000)
    answers = (rng.random((3000, 20)) < p_correct(theta, a, b)).astype(float)
    administered = rng.random(answers.shape) >= 0.6

    # when the items are calibrated from the administered cells only
    fit = calibrate(np.where(administered, answers, np.nan), None, "2pl", mask=administered)

    # then difficulties and discriminations come back (RMSE b ≈ 0.09, a ≈ 0.14 here)
    assert fit.converged
    assert np.sqrt(np.mean((fit.b - b) ** 2)) < 0.2
    assert np.sqrt(np.mean((fit.a - a) ** 2)) < 0.2
    np.testing.assert_array_equal(fit.n_responses, administered.sum(axis=0))
    # and the standard errors are on the right scale
    assert np.all(np.abs((fit.a - a) / fit.se_a) < 4) and np.all(np.abs((fit.b - b) / fit.se_b) < 4)


def test_lsat6_with_40_percent_blanked_stays_within_two_standard_errors(lsat_complete):
    # given LSAT-6 with 40% of its 5,000 cells blanked (a fixed draw)
    blanked = _blank(np.random.default_rng(0), LSAT6_ROWS.shape, 0.4)

    # when it is calibrated from what is left
    fit = calibrate(LSAT6_ROWS, None, "2pl", mask=blanked)

    # then each estimate is within two of its standard errors of the complete-data fit
    assert fit.converged
    assert np.all(np.abs(fit.a - lsat_complete.a) < 2 * fit.se_a)
    assert np.all(np.abs(fit.b - lsat_complete.b) < 2 * fit.se_b)


def test_lsat6_blanked_deviations_match_their_standard_errors(lsat_complete):
    """Not one lucky draw: over several blankings, estimates beyond two SEs of the complete
    fit are about as rare as the normal tail says (4% of 400 estimates over 40 blankings when
    this was written: a single draw has all ten within two SEs about 70% of the time)."""
    z = []
    for seed in range(6):
        blanked = _blank(np.random.default_rng(seed), LSAT6_ROWS.shape, 0.4)
        fit = calibrate(LSAT6_ROWS, None, "2pl", mask=blanked)
        z += [*((fit.a - lsat_complete.a) / fit.se_a), *((fit.b - lsat_complete.b) / fit.se_b)]
    z = np.abs(np.array(z))
    assert np.mean(z > 2) <= 0.1
    assert np.all(z < 3.5)


def test_standard_errors_with_missing_cells_match_the_finite_difference_hessian():
    """Independent of EM and Louis's identity: with cells missing, the gradient of the masked
    marginal log-likelihood vanishes at the estimate and the inverse negative Hessian by
    central differences gives the reported SEs."""
    blanked = _blank(np.random.default_rng(1), LSAT6_ROWS.shape, 0.4)
    fit = calibrate(LSAT6_ROWS, None, "2pl", mask=blanked)
    x0 = np.r_[fit.a, fit.b]

    def loglik(x):
        return marginal_log_likelihood(LSAT6_ROWS, x[:5], x[5:], 0.0, mask=blanked)

    h, n = 1e-4, len(x0)
    eye = np.eye(n) * h
    grad = np.array([(loglik(x0 + eye[i]) - loglik(x0 - eye[i])) / (2 * h) for i in range(n)])
    assert np.abs(grad).max() < 1e-3
    hess = np.array(
        [
            [
                (
                    loglik(x0 + eye[i] + eye[j])
                    - loglik(x0 + eye[i] - eye[j])
                    - loglik(x0 - eye[i] + eye[j])
                    + loglik(x0 - eye[i] - eye[j])
                )
                / (4 * h * h)
                for j in range(n)
            ]
            for i in range(n)
        ]
    )
    se = np.sqrt(np.diag(np.linalg.inv(-hess)))
    np.testing.assert_allclose(se[:5], fit.se_a, rtol=1e-3)
    np.testing.assert_allclose(se[5:], fit.se_b, rtol=1e-3)


def test_unanswered_cells_contribute_nothing(lsat_complete):
    # values under a False mask are never read, and a row with nothing answered changes nothing
    rng = np.random.default_rng(3)
    blanked = _blank(rng, LSAT6_ROWS.shape, 0.3)
    noise = np.where(blanked, LSAT6_ROWS, rng.integers(0, 2, LSAT6_ROWS.shape))
    nan = np.where(blanked, LSAT6_ROWS, np.nan)
    with_noise = calibrate(noise, None, "2pl", mask=blanked)
    with_nan = calibrate(
        np.vstack([nan, np.full((3, 5), np.nan)]),
        None,
        "2pl",
        mask=np.vstack([blanked, np.zeros((3, 5), dtype=bool)]),
    )
    np.testing.assert_array_equal(with_noise.a, with_nan.a)
    np.testing.assert_array_equal(with_noise.b, with_nan.b)
    assert with_noise.log_likelihood == pytest.approx(with_nan.log_likelihood, abs=1e-9)
    # and an all-True mask is the complete-data fit
    everything = calibrate(LSAT6_ROWS, None, "2pl", mask=np.ones(LSAT6_ROWS.shape, dtype=bool))
    np.testing.assert_allclose(everything.a, lsat_complete.a, atol=1e-6)
    np.testing.assert_allclose(everything.se_b, lsat_complete.se_b, rtol=1e-6)


@pytest.mark.parametrize("model", ["rasch", "1pl", "3pl"])
def test_every_model_accepts_missing_cells(model):
    blanked = _blank(np.random.default_rng(4), LSAT6_ROWS.shape, 0.4)
    fit = calibrate(LSAT6_ROWS, None, model, mask=blanked)
    assert fit.converged
    assert np.all(np.isfinite(fit.b) & np.isfinite(fit.se_b))
    assert np.all(np.diff(fit.objective_trace) >= -1e-9 * np.abs(fit.objective_trace[1:]))


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (np.array([[True, False], [True, False]]), "nobody answered"),
        (np.array([[True, True]]), "shape of responses"),
        (np.array([[False, False], [False, False]]), "no responses"),
    ],
)
def test_masks_that_leave_nothing_to_calibrate_are_refused(mask, message):
    with pytest.raises(ValueError, match=message):
        calibrate(np.array([[0, 1], [1, 0]]), None, "2pl", mask=mask)


def test_an_item_all_right_among_its_answers_is_refused():
    responses = np.array([[1, 0], [1, 1], [0, 0], [0, 1]])
    mask = np.array([[True, True], [True, True], [False, True], [False, True]])
    with pytest.raises(ValueError, match="all correct or all wrong"):
        calibrate(responses, None, "2pl", mask=mask)


# --- linking -----------------------------------------------------------------------------------


def test_mean_sigma_recovers_a_known_transformation():
    b_new = np.array([-1.2, -0.3, 0.4, 1.5])
    link = link_mean_sigma(1.3 * b_new - 0.4, b_new)
    assert (link.A, link.B, link.method, link.anchors) == (
        pytest.approx(1.3),
        pytest.approx(-0.4),
        "mean_sigma",
        4,
    )
    assert link_mean_sigma([0.5, 1.5], [0.0, 0.6]) == Link(1.0, pytest.approx(0.7), "mean", 2)
    assert link_mean_sigma([], []) == Link()
    assert link_mean_sigma(b_new + 1, b_new, fixed_slope=True).A == 1.0


def test_a_linked_calibration_predicts_the_same_at_the_mapped_ability(lsat_complete):
    link = Link(1.4, 0.3, "mean_sigma", 5)
    linked = calibration_on_scale(lsat_complete, link)
    theta_new = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(
        p_correct(link.A * theta_new + link.B, linked.a, linked.b, linked.c),
        p_correct(theta_new, lsat_complete.a, lsat_complete.b, lsat_complete.c),
        rtol=1e-12,
    )
    np.testing.assert_allclose(linked.se_b, 1.4 * lsat_complete.se_b)
    with pytest.raises(ValueError, match="positive"):
        calibration_on_scale(lsat_complete, Link(-1.0, 0.0))


def test_linking_keeps_a_learners_ability_when_the_population_changes():
    # given a first calibration on one cohort (θ ~ N(0, 1)), 50% of cells missing
    rng = np.random.default_rng(11)
    a, b = rng.uniform(0.8, 2.0, 20), rng.uniform(-1.5, 1.5, 20)

    def cohort(mean, n):
        theta = rng.normal(mean, 1.0, n)
        answers = (rng.random((n, 20)) < p_correct(theta, a, b)).astype(float)
        return answers, rng.random(answers.shape) >= 0.5

    first_u, first_m = cohort(0.0, 1500)
    first = calibrate(first_u, None, "2pl", mask=first_m)
    # and a learner who answered every item; their ability on the first scale
    learner = (rng.random(20) < p_correct(0.8, a, b)).astype(float)
    theta_first = eap_ability(learner, first.a, first.b)[0]

    # when a stronger cohort (θ ~ N(1, 1)) joins and everything is calibrated again
    second_u, second_m = cohort(1.0, 1500)
    second = calibrate(
        np.vstack([first_u, second_u]), None, "2pl", mask=np.vstack([first_m, second_m])
    )
    unlinked_theta = eap_ability(learner, second.a, second.b)[0]
    link = link_mean_sigma(first.b, second.b)
    linked = calibration_on_scale(second, link)
    theta_linked = eap_ability(learner, linked.a, linked.b)[0]

    # then without linking the learner's ability would move by about half a unit; linked, it
    # stays within 0.1 of what was stored
    assert abs(unlinked_theta - theta_first) > 0.3
    assert abs(theta_linked - theta_first) < 0.1
    assert pytest.approx(0.5, abs=0.15) == link.B  # the new cohort moved the mean by ≈ 0.5


def test_linking_the_same_data_twice_is_the_identity(lsat_complete):
    again = calibrate(LSAT6_PATTERNS, LSAT6_COUNTS, "2pl")
    link = link_mean_sigma(lsat_complete.b, again.b)
    assert pytest.approx(1.0, abs=1e-9) == link.A and pytest.approx(0.0, abs=1e-9) == link.B
