"""The analysis' statistics against hand computations (apps/experiments/statistics.py)."""

import math

import pytest

from apps.experiments.statistics import (
    chi_square_survival,
    mean_interval,
    sample_ratio_check,
    two_proportion_test,
    welch_test,
    wilson_interval,
)


def test_the_two_proportion_test_reproduces_a_hand_computation():
    # given an arm that recalled 180 of 240 reviews and a control that recalled 150 of 230
    # by hand: p1 = 0.75, p0 = 0.652174; pooled p = 330/470 = 0.702128
    # SE_pooled = sqrt(0.702128 · 0.297872 · (1/240 + 1/230)) = sqrt(0.209145 · 0.0085145)
    #           = 0.042199;  z = 0.097826 / 0.042199 = 2.3182;  p = erfc(2.3182/√2) = 0.0204
    # unpooled SE = sqrt(0.75·0.25/240 + 0.652174·0.347826/230) = 0.042029
    # 95% interval of the difference: 0.097826 ± 1.959964 · 0.042029 = [0.0154, 0.1802]
    result = two_proportion_test(180, 240, 150, 230)

    assert result.difference == pytest.approx(0.0978, abs=5e-5)
    assert result.z == pytest.approx(2.3182, abs=5e-5)
    assert result.p_value == pytest.approx(0.0204, abs=5e-5)
    assert (round(result.low, 4), round(result.high, 4)) == (0.0154, 0.1802)


def test_no_test_without_observations_or_without_variation():
    assert two_proportion_test(0, 0, 3, 10).p_value is None
    same = two_proportion_test(10, 10, 7, 7)
    assert same.p_value is None and "same outcome" in same.note


def test_wilson_interval_matches_the_published_example():
    # Newcombe (1998), example: 81 of 263 → 0.2553 to 0.3662
    interval = wilson_interval(81, 263)
    assert (round(interval.low, 4), round(interval.high, 4)) == (0.2553, 0.3662)
    assert wilson_interval(0, 0).rate is None


def test_chi_square_survival_matches_tables():
    assert chi_square_survival(3.841459, 1) == pytest.approx(0.05, abs=1e-6)
    assert chi_square_survival(5.991465, 2) == pytest.approx(0.05, abs=1e-6)
    assert chi_square_survival(10.0, 3) == pytest.approx(0.018566, abs=1e-6)
    assert chi_square_survival(20.0, 1) == pytest.approx(math.erfc(math.sqrt(10.0)), rel=1e-9)


def test_the_sample_ratio_check_fires_on_a_skewed_split_and_not_on_a_fair_one():
    # 1,100 vs 900 on a 50/50 split: χ² = 2 · 100² / 1000 = 20, p = 7.7e-6 < 0.001
    skewed = sample_ratio_check([1100, 900], [1, 1])
    assert skewed.chi_square == pytest.approx(20.0)
    assert skewed.p_value == pytest.approx(7.74e-6, rel=1e-2)
    assert skewed.mismatch

    fair = sample_ratio_check([1013, 987], [1, 1])  # χ² = 0.338, p = erfc(√0.338/√2) = 0.5610
    assert not fair.mismatch and fair.p_value == pytest.approx(0.5610, abs=1e-4)

    # a 1:3 split honoured is fair; the same counts against 1:1 are a mismatch
    assert not sample_ratio_check([498, 1502], [1, 3]).mismatch
    assert sample_ratio_check([498, 1502], [1, 1]).mismatch


def test_means_and_welch():
    arm, control = mean_interval([3.0, 5.0, 7.0]), mean_interval([2.0, 4.0])
    assert arm.mean == 5.0 and arm.variance == 4.0
    assert arm.low == pytest.approx(5.0 - 1.959964 * math.sqrt(4 / 3), abs=1e-5)
    comparison = welch_test(arm, control)
    assert comparison.difference == 2.0
    assert comparison.z == pytest.approx(2.0 / math.sqrt(4 / 3 + 2 / 2), abs=1e-9)
    assert welch_test(mean_interval([1.0]), control).p_value is None
