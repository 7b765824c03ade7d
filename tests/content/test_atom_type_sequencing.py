"""Properties of the shared sequencing helpers (stable_permutation, display order, LCS)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.content.atom_types import ResponseValidationError
from apps.content.atom_types.base import stable_permutation
from apps.content.atom_types.sequencing import (
    display_order,
    ids_to_indexes,
    lcs_length,
    lcs_score,
)

seeds = st.text(max_size=40)
short_lists = st.lists(st.integers(0, 4), max_size=8)


@given(seeds, st.integers(0, 60))
def test_stable_permutation_is_a_deterministic_permutation(seed, n):
    order = stable_permutation(seed, n)
    assert sorted(order) == list(range(n))
    assert stable_permutation(seed, n) == order


@given(seeds, st.integers(2, 60))
def test_stable_permutation_is_never_the_identity(seed, n):
    assert stable_permutation(seed, n) != list(range(n))


def _lcs_reference(a, b):
    if not a or not b:
        return 0
    if a[0] == b[0]:
        return 1 + _lcs_reference(a[1:], b[1:])
    return max(_lcs_reference(a[1:], b), _lcs_reference(a, b[1:]))


@given(short_lists, short_lists)
def test_lcs_length_matches_the_definition(a, b):
    assert lcs_length(a, b) == _lcs_reference(a, b)


@given(short_lists, short_lists.filter(bool))
def test_lcs_score_is_in_range_and_1_only_for_the_exact_order(answer, solution):
    score = lcs_score(answer, solution)
    assert 0.0 <= score <= 1.0
    assert (score == 1.0) == (answer == solution)


@given(st.permutations(range(7)))
def test_lcs_score_of_a_permutation_counts_items_kept_in_order(answer):
    solution = list(range(7))
    assert lcs_score(answer, solution) == lcs_length(answer, solution) / 7


@st.composite
def sequencing_atoms(draw):
    """Item texts (duplicates allowed) and a solution: >= 2 indexes, two texts differing."""
    keys = draw(st.lists(st.sampled_from("abcdef"), min_size=2, max_size=9))
    solution = draw(
        st.lists(st.integers(0, len(keys) - 1), min_size=2, max_size=len(keys), unique=True)
        .map(list)
        .filter(lambda s: len({keys[i] for i in s}) >= 2)
    )
    return keys, solution


@given(seeds, sequencing_atoms())
def test_display_order_never_shows_the_solution(seed, atom):
    keys, solution = atom
    order = display_order(seed, keys, solution)
    assert sorted(order) == list(range(len(keys)))
    assert display_order(seed, keys, solution) == order
    members = set(solution)
    assert [keys[i] for i in order if i in members] != [keys[i] for i in solution]


@given(seeds, st.integers(2, 30))
def test_display_order_is_stable_permutation_when_that_hides_the_answer(seed, n):
    keys = [str(i) for i in range(n)]
    assert display_order(seed, keys, list(range(n))) == stable_permutation(seed, n)


def test_ids_map_back_through_the_display_order():
    assert ids_to_indexes([2, 0], [3, 1, 0, 2], "response.order") == [0, 3]


@pytest.mark.parametrize(
    ("ids", "path"),
    [([4], "response.order.0"), ([0, -1], "response.order.1"), ([1, 1], "response.order")],
)
def test_bad_ids_are_response_errors(ids, path):
    with pytest.raises(ResponseValidationError) as info:
        ids_to_indexes(ids, [3, 1, 0, 2], "response.order")
    assert path in info.value.errors
