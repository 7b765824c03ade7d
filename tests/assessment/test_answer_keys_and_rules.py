"""The pure parts: each atom type's right answer for the review, the draw, the pass rule."""

import random

import pytest

from apps.assessment.answer_keys import ANSWER_KEYS, expected_response
from apps.assessment.drawing import PoolTooSmall, SectionPool, Shortfall, draw
from apps.assessment.marking import is_pass, score_percent
from apps.content.atom_types import AtomSnapshot, atom_type_keys, get_atom_type


def example_snapshot(key: str) -> AtomSnapshot:
    kind = get_atom_type(key)
    return AtomSnapshot(
        id="00000000-0000-0000-0000-000000000001",
        atom_type=key,
        content=kind.example_content,
        grading_logic=kind.example_grading_logic,
        options=kind.example_options,
        display_seed="a fixed seed",
    )


def test_every_atom_type_has_an_answer_key():
    assert set(ANSWER_KEYS) == set(atom_type_keys())


@pytest.mark.parametrize("key", [k for k in atom_type_keys() if k != "flashcard"])
def test_the_expected_answer_is_graded_right_by_the_atom_type(key):
    atom = example_snapshot(key)

    result = get_atom_type(key).grade_response(atom, expected_response(atom))

    assert result.correct and result.score == 1.0


def test_a_flashcards_expected_answer_is_its_back():
    atom = example_snapshot("flashcard")

    assert expected_response(atom) == {"back": atom.content["back"]}


@pytest.mark.parametrize(
    ("correct", "total", "pass_mark", "passes"),
    [(43, 50, 86, True), (42, 50, 86, False), (43, 50, 87, False), (3, 5, 60, True),
     (50, 50, 100, True), (0, 5, 1, False), (0, 0, 50, False)],
)  # fmt: skip
def test_a_score_equal_to_the_pass_mark_passes_and_one_below_fails(
    correct, total, pass_mark, passes
):
    assert is_pass(correct, total, pass_mark) is passes


def test_score_is_a_percentage_of_all_items():
    assert score_percent(43, 50) == 86.0
    assert score_percent(2, 3) == 66.67
    assert score_percent(0, 0) == 0.0


def test_the_draw_fills_every_section_with_distinct_atoms_choosing_tight_pools_first():
    # unit B's only atoms also sit in unit A: drawing A first could take one of them
    sections = [
        SectionPool("A", 1, frozenset({"x", "y", "z"})),
        SectionPool("B", 2, frozenset({"x", "y"})),
    ]

    for seed in range(20):
        drawn = draw(sections, rng=random.Random(seed))

        assert sorted(drawn["B"]) == ["x", "y"] and drawn["A"] == ["z"]


def test_the_draw_avoids_the_last_tests_atoms_until_the_pool_runs_out():
    pool = frozenset(range(5))
    last = frozenset({0, 1, 2})

    fresh_enough = draw([SectionPool("A", 2, pool)], avoid=last, rng=random.Random(1))
    one_short = draw([SectionPool("A", 3, pool)], avoid=last, rng=random.Random(1))

    assert set(fresh_enough["A"]) == {3, 4}
    assert {3, 4} < set(one_short["A"]) and len(set(one_short["A"]) & last) == 1


def test_a_pool_too_small_names_every_short_section():
    sections = [
        SectionPool("A", 3, frozenset({1, 2})),
        SectionPool("B", 1, frozenset({3})),
        SectionPool("C", 2, frozenset()),
    ]

    with pytest.raises(PoolTooSmall) as refused:
        draw(sections, rng=random.Random(0))

    assert sorted(refused.value.shortfalls, key=lambda s: s.key) == [
        Shortfall("A", 3, 2),
        Shortfall("C", 2, 0),
    ]
