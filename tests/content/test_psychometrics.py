"""Classical item analysis: hand-computed examples, edge cases and properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.content.psychometrics import (
    DEFAULT_THRESHOLDS,
    ItemResponses,
    ItemStatistics,
    ItemThresholds,
    distractor_discrimination,
    facility_index,
    flag_reasons,
    item_analysis,
    option_selection_rates,
    point_biserial,
)

# --- The worked example --------------------------------------------------------------------
# Ten learners. Learners 1-6 got the item right, 7-10 got it wrong:
#   item      x = 1  1  1  1  1  1  0  0  0  0
#   totals    T = 10 9  8  7  6  8  6  4  3  3     (each total includes the item's own point)
#
# Facility: p = 6/10 = 0.6, q = 0.4, sqrt(p*q) = sqrt(0.24) = 0.489898
#
# Uncorrected point-biserial (criterion T):
#   M1 = (10+9+8+7+6+8)/6 = 48/6 = 8        M0 = (6+4+3+3)/4 = 16/4 = 4
#   mean T = 64/10 = 6.4
#   sum T^2 = 100+81+64+49+36+64+36+16+9+9 = 464  ->  var = 464/10 - 6.4^2 = 46.4 - 40.96 = 5.44
#   s = sqrt(5.44) = 2.332381  (population s)
#   r = (M1 - M0)/s * sqrt(pq) = 4/2.332381 * 0.489898 = 0.840168
#
# Corrected point-biserial (criterion: rest score R = T - x):
#   R = 9 8 7 6 5 7 | 6 4 3 3
#   M1 = (9+8+7+6+5+7)/6 = 42/6 = 7         M0 = 16/4 = 4
#   mean R = 58/10 = 5.8
#   sum R^2 = 81+64+49+36+25+49+36+16+9+9 = 374  ->  var = 37.4 - 5.8^2 = 37.4 - 33.64 = 3.76
#   s = sqrt(3.76) = 1.939072
#   r = 3/1.939072 * 0.489898 = 0.757937
ITEM = np.array([1, 1, 1, 1, 1, 1, 0, 0, 0, 0])
TOTALS = np.array([10, 9, 8, 7, 6, 8, 6, 4, 3, 3], dtype=float)

# --- Kelley's groups, worked example --------------------------------------------------------
# Ten learners, four options, option 1 is the key. 27% of 10 = 2.7 -> k = 3 per group.
#   learner   0   1  2  3  4   5  6   7  8  9
#   total     12  3  9  7  15  5  10  2  8  14
#   selected  1   2  0  3  2   1  1   0  1  1
# Sorted by total: 2(#7) 3(#1) 5(#5) 7(#3) 8(#8) 9(#2) 10(#6) 12(#0) 14(#9) 15(#4)
#   lower = #7, #1, #5 -> options 0, 2, 1 -> rates [1/3, 1/3, 1/3, 0]
#   upper = #0, #9, #4 -> options 1, 1, 2 -> rates [0, 2/3, 1/3, 0]
#   D = upper - lower = [-1/3, +1/3, 0, 0]
# Selection rates over all ten: option 0: 2, 1: 5, 2: 2, 3: 1 -> [0.2, 0.5, 0.2, 0.1]
K_TOTALS = np.array([12, 3, 9, 7, 15, 5, 10, 2, 8, 14], dtype=float)
K_SELECTED = np.array([1, 2, 0, 3, 2, 1, 1, 0, 1, 1])


def test_facility_of_worked_example():
    assert facility_index(ITEM) == pytest.approx(0.6)


def test_facility_of_no_responses_is_nan():
    assert math.isnan(facility_index(np.array([])))


def test_uncorrected_point_biserial_matches_hand_computation_and_corrcoef():
    r = point_biserial(ITEM, TOTALS, corrected=False)
    by_formula = (8 - 4) / math.sqrt(5.44) * math.sqrt(0.6 * 0.4)
    assert r == pytest.approx(0.840168, abs=1e-6)
    assert r == pytest.approx(by_formula)
    assert r == pytest.approx(np.corrcoef(ITEM, TOTALS)[0, 1])


def test_corrected_point_biserial_uses_rest_score():
    r = point_biserial(ITEM, TOTALS)  # corrected is the default
    by_formula = (7 - 4) / math.sqrt(3.76) * math.sqrt(0.6 * 0.4)
    assert r == pytest.approx(0.757937, abs=1e-6)
    assert r == pytest.approx(by_formula)
    assert r == pytest.approx(np.corrcoef(ITEM, TOTALS - ITEM)[0, 1])
    # Removing the item from the criterion lowers its correlation with it.
    assert r < point_biserial(ITEM, TOTALS, corrected=False)


def test_point_biserial_accepts_lists():
    assert point_biserial(list(ITEM), list(TOTALS)) == pytest.approx(0.757937, abs=1e-6)


@pytest.mark.parametrize(
    ("item", "totals"),
    [
        ([], []),  # no responses
        ([1], [5.0]),  # a single response
        ([1, 1, 1, 1], [4.0, 2.0, 3.0, 1.0]),  # everyone right: no item variance
        ([0, 0, 0], [1.0, 2.0, 3.0]),  # everyone wrong
        ([1, 0, 1, 0], [3.0, 2.0, 3.0, 2.0]),  # rest score constant (all 2)
    ],
)
def test_point_biserial_is_nan_when_undefined(item, totals):
    assert math.isnan(point_biserial(np.array(item), np.array(totals)))


def test_point_biserial_uncorrected_can_be_defined_when_rest_score_is_constant():
    # Totals 3,2,3,2 vary (uncorrected r = 1) although the rest scores do not.
    item, totals = np.array([1, 0, 1, 0]), np.array([3.0, 2.0, 3.0, 2.0])
    assert point_biserial(item, totals, corrected=False) == pytest.approx(1.0)


def test_point_biserial_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        point_biserial(np.array([1, 0]), np.array([1.0, 2.0, 3.0]))


def test_negative_discrimination():
    # The weaker learners get it right: r < 0.
    item = np.array([0, 0, 1, 1])
    totals = np.array([9.0, 8.0, 3.0, 2.0])
    assert point_biserial(item, totals) < 0


def test_option_selection_rates_worked_example():
    rates = option_selection_rates(K_SELECTED, 4)
    np.testing.assert_allclose(rates, [0.2, 0.5, 0.2, 0.1])
    assert rates.sum() == pytest.approx(1.0)


def test_option_selection_rates_without_responses_are_zeros():
    np.testing.assert_array_equal(option_selection_rates(np.array([], dtype=int), 3), [0, 0, 0])


def test_option_selection_rates_include_unchosen_options():
    np.testing.assert_allclose(
        option_selection_rates(np.array([0, 0, 2, 0]), 5), [0.75, 0, 0.25, 0, 0]
    )


@pytest.mark.parametrize("selected", [[0, 3], [-1, 0], [0.5, 1]])
def test_option_selection_rates_reject_invalid_indices(selected):
    with pytest.raises(ValueError):
        option_selection_rates(np.array(selected), 3)


def test_kelley_index_worked_example():
    d = distractor_discrimination(K_SELECTED, K_TOTALS, 4)
    np.testing.assert_allclose(d, [-1 / 3, 1 / 3, 0.0, 0.0])


def test_kelley_groups_have_at_least_one_learner():
    # n = 2: 27% of 2 = 0.54 -> k = 1; the stronger learner chose 1, the weaker 0.
    d = distractor_discrimination(np.array([0, 1]), np.array([1.0, 5.0]), 2)
    np.testing.assert_allclose(d, [-1.0, 1.0])


def test_kelley_groups_never_overlap():
    # n = 3 with half the learners per group would overlap; k is capped at n // 2 = 1.
    d = distractor_discrimination(np.array([0, 1, 2]), np.array([1.0, 2.0, 3.0]), 3, 0.5)
    np.testing.assert_allclose(d, [-1.0, 0.0, 1.0])


def test_kelley_ties_are_broken_by_stable_sort_order():
    # All four learners tie; k = round(0.27 * 4) = 1. The stable sort keeps input order, so the
    # first response is the lower group and the last the upper group.
    selected = np.array([0, 1, 1, 2])
    d = distractor_discrimination(selected, np.zeros(4), 3)
    np.testing.assert_allclose(d, [-1.0, 0.0, 1.0])


def test_kelley_index_is_nan_with_fewer_than_two_responses():
    assert np.isnan(distractor_discrimination(np.array([1]), np.array([3.0]), 4)).all()
    assert distractor_discrimination(np.array([], dtype=int), np.array([]), 4).shape == (4,)


@pytest.mark.parametrize("fraction", [0.0, -0.1, 0.6])
def test_kelley_rejects_bad_group_fraction(fraction):
    with pytest.raises(ValueError, match="group_fraction"):
        distractor_discrimination(K_SELECTED, K_TOTALS, 4, fraction)


def test_item_analysis_of_mcq_item():
    correct = (K_SELECTED == 1).astype(int)
    stats = item_analysis(
        ItemResponses(
            correct=correct,
            learner_totals=K_TOTALS,
            selected_option=K_SELECTED,
            n_options=4,
            correct_option=1,
        )
    )
    assert stats.n == 10
    assert stats.facility == pytest.approx(0.5)
    assert stats.discrimination == pytest.approx(point_biserial(correct, K_TOTALS))
    assert stats.option_selection_rates == pytest.approx((0.2, 0.5, 0.2, 0.1))
    assert stats.distractor_discrimination == pytest.approx((-1 / 3, 1 / 3, 0.0, 0.0))
    assert stats.correct_option == 1
    assert isinstance(stats.option_selection_rates, tuple)


def test_item_analysis_of_item_without_options():
    stats = item_analysis(ItemResponses(correct=ITEM, learner_totals=TOTALS))
    assert stats == ItemStatistics(
        n=10,
        facility=pytest.approx(0.6),
        discrimination=pytest.approx(0.757937, abs=1e-6),
    )
    assert stats.option_selection_rates == ()
    assert stats.distractor_discrimination == ()


def test_item_analysis_of_no_responses():
    stats = item_analysis(
        ItemResponses(
            correct=np.array([]),
            learner_totals=np.array([]),
            selected_option=np.array([], dtype=int),
            n_options=3,
            correct_option=0,
        )
    )
    assert stats.n == 0
    assert math.isnan(stats.facility)
    assert math.isnan(stats.discrimination)
    assert stats.option_selection_rates == (0.0, 0.0, 0.0)
    assert all(math.isnan(d) for d in stats.distractor_discrimination)


def test_item_analysis_all_correct_has_nan_discrimination():
    stats = item_analysis(ItemResponses(correct=np.ones(5), learner_totals=np.arange(5.0)))
    assert stats.facility == 1.0
    assert math.isnan(stats.discrimination)


def test_item_analysis_rejects_mismatched_arrays_and_bad_key():
    with pytest.raises(ValueError):
        item_analysis(ItemResponses(correct=np.ones(3), learner_totals=np.ones(2)))
    with pytest.raises(ValueError):
        item_analysis(
            ItemResponses(
                correct=np.ones(2),
                learner_totals=np.ones(2),
                selected_option=np.array([0, 1, 1]),
                n_options=2,
            )
        )
    with pytest.raises(ValueError, match="correct_option"):
        item_analysis(
            ItemResponses(
                correct=np.ones(2),
                learner_totals=np.ones(2),
                selected_option=np.array([0, 1]),
                n_options=2,
                correct_option=2,
            )
        )


# --- Flags -----------------------------------------------------------------------------------


def _stats(**overrides):
    values = {
        "n": 100,
        "facility": 0.6,
        "discrimination": 0.4,
        "option_selection_rates": (0.2, 0.6, 0.1, 0.1),
        "distractor_discrimination": (-0.2, 0.4, -0.1, -0.1),
        "correct_option": 1,
    }
    values.update(overrides)
    return ItemStatistics(**values)


def test_healthy_item_has_no_flags():
    assert flag_reasons(_stats(), ItemThresholds()) == []


def test_defaults_match_item_analysis_settings():
    assert ItemThresholds() == DEFAULT_THRESHOLDS
    expected = ItemThresholds(
        min_responses=30,
        min_facility=0.2,
        max_facility=0.95,
        min_discrimination=0.15,
        max_distractor_discrimination=0.0,
        min_distractor_selection=0.02,
    )
    assert expected == DEFAULT_THRESHOLDS


def test_flag_too_hard():
    assert flag_reasons(_stats(facility=0.12), ItemThresholds()) == [
        "Too hard: facility 0.12 < 0.20"
    ]


def test_flag_too_easy():
    assert flag_reasons(_stats(facility=0.97), ItemThresholds()) == [
        "Too easy: facility 0.97 > 0.95"
    ]


def test_flag_poor_discrimination():
    assert flag_reasons(_stats(discrimination=0.05), ItemThresholds()) == [
        "Poor discrimination: 0.05 < 0.15"
    ]
    assert flag_reasons(_stats(discrimination=-0.3), ItemThresholds()) == [
        "Poor discrimination: -0.30 < 0.15"
    ]


def test_flag_distractor_attracting_stronger_learners():
    stats = _stats(distractor_discrimination=(-0.2, 0.4, 0.1, -0.1))
    assert flag_reasons(stats, ItemThresholds()) == [
        "Distractor 2 attracts stronger learners (index +0.10)"
    ]


def test_flag_distractor_almost_never_chosen():
    stats = _stats(option_selection_rates=(0.2, 0.6, 0.19, 0.01))
    assert flag_reasons(stats, ItemThresholds()) == ["Distractor 3 is almost never chosen (1%)"]


def test_key_is_not_judged_as_a_distractor():
    # The key has a positive index and could be rarely chosen; neither is a distractor flag.
    stats = _stats(
        facility=0.3,
        option_selection_rates=(0.4, 0.3, 0.2, 0.1),
        distractor_discrimination=(-0.2, 0.5, -0.2, -0.1),
    )
    assert flag_reasons(stats, ItemThresholds(min_distractor_selection=0.35)) == [
        "Distractor 2 is almost never chosen (20%)",
        "Distractor 3 is almost never chosen (10%)",
    ]


def test_boundaries_are_inclusive():
    stats = _stats(
        facility=0.2,
        discrimination=0.15,
        option_selection_rates=(0.02, 0.76, 0.11, 0.11),
        distractor_discrimination=(0.0, 0.4, -0.1, -0.1),
    )
    assert flag_reasons(stats, ItemThresholds()) == []


def test_several_flags_in_order():
    stats = _stats(
        facility=0.1,
        discrimination=0.0,
        option_selection_rates=(0.0, 0.1, 0.5, 0.4),
        distractor_discrimination=(0.0, 0.2, 0.3, -0.5),
    )
    assert flag_reasons(stats, ItemThresholds()) == [
        "Too hard: facility 0.10 < 0.20",
        "Poor discrimination: 0.00 < 0.15",
        "Distractor 0 is almost never chosen (0%)",
        "Distractor 2 attracts stronger learners (index +0.30)",
    ]


def test_too_few_responses_says_nothing():
    stats = _stats(n=29, facility=0.01, discrimination=-0.9)
    assert flag_reasons(stats, ItemThresholds()) == []
    assert flag_reasons(stats, ItemThresholds(min_responses=29)) != []


def test_nan_statistics_are_ignored():
    stats = _stats(
        facility=math.nan,
        discrimination=math.nan,
        option_selection_rates=(math.nan,) * 4,
        distractor_discrimination=(math.nan,) * 4,
    )
    assert flag_reasons(stats, ItemThresholds()) == []


def test_items_without_options_or_key_get_no_distractor_flags():
    no_options = _stats(option_selection_rates=(), distractor_discrimination=())
    assert flag_reasons(no_options, ItemThresholds()) == []
    no_key = _stats(correct_option=None, option_selection_rates=(0.0, 1.0, 0.0, 0.0))
    assert flag_reasons(no_key, ItemThresholds()) == []


def test_thresholds_default_when_omitted():
    assert flag_reasons(_stats(facility=0.12)) == ["Too hard: facility 0.12 < 0.20"]


def test_end_to_end_flags_a_broken_item():
    # 40 learners; option 2 (a distractor) is chosen by the strongest, option 3 by nobody.
    # k = round(0.27 * 40) = 11; the upper group holds all ten option-2 learners and one
    # option-1 learner, the lower group none of them: index = 10/11 - 0 = 0.909.
    rest = np.arange(40.0)
    selected = np.array([0] * 10 + [1] * 20 + [2] * 10)  # weakest first
    correct = (selected == 1).astype(int)
    stats = item_analysis(
        ItemResponses(correct, rest + correct, selected, n_options=4, correct_option=1)
    )
    reasons = flag_reasons(stats, ItemThresholds())
    assert "Distractor 2 attracts stronger learners (index +0.91)" in reasons
    assert "Distractor 3 is almost never chosen (0%)" in reasons


# --- Properties -----------------------------------------------------------------------------


@st.composite
def mcq_responses(draw, min_size=0):
    n_options = draw(st.integers(min_value=1, max_value=6))
    n = draw(st.integers(min_value=min_size, max_value=60))
    selected = draw(st.lists(st.integers(0, n_options - 1), min_size=n, max_size=n))
    totals = draw(
        st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=n, max_size=n)
    )
    return np.array(selected, dtype=int), np.array(totals), n_options


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)),
        max_size=80,
    ),
    st.booleans(),
)
def test_point_biserial_is_a_correlation_or_nan(pairs, corrected):
    item = np.array([p[0] for p in pairs], dtype=float)
    totals = np.array([p[1] for p in pairs], dtype=float)
    r = point_biserial(item, totals, corrected=corrected)
    assert math.isnan(r) or -1.0 <= r <= 1.0
    if len(pairs) < 2 or len(set(item)) < 2:
        assert math.isnan(r)


@settings(max_examples=200, deadline=None)
@given(mcq_responses())
def test_selection_rates_are_proportions_summing_to_one(data):
    selected, _, n_options = data
    rates = option_selection_rates(selected, n_options)
    assert rates.shape == (n_options,)
    assert ((rates >= 0) & (rates <= 1)).all()
    if selected.size:
        assert rates.sum() == pytest.approx(1.0)
    else:
        assert rates.sum() == 0


@settings(max_examples=200, deadline=None)
@given(mcq_responses(min_size=2), st.floats(min_value=0.01, max_value=0.5))
def test_kelley_indices_lie_in_unit_interval_and_sum_to_zero(data, fraction):
    selected, totals, n_options = data
    d = distractor_discrimination(selected, totals, n_options, fraction)
    assert d.shape == (n_options,)
    assert ((d >= -1) & (d <= 1)).all()
    # Both groups have k members, so the per-option differences cancel out.
    assert d.sum() == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(mcq_responses())
def test_item_analysis_statistics_are_in_range(data):
    selected, totals, n_options = data
    correct = (selected == 0).astype(int)
    stats = item_analysis(ItemResponses(correct, totals, selected, n_options, correct_option=0))
    assert stats.n == selected.size
    assert math.isnan(stats.facility) or 0 <= stats.facility <= 1
    assert math.isnan(stats.discrimination) or -1 <= stats.discrimination <= 1
    assert len(stats.option_selection_rates) == n_options
    for reason in flag_reasons(stats, ItemThresholds(min_responses=0)):
        assert isinstance(reason, str)
