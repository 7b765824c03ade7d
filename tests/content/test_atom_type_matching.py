"""Matching left items to right items."""

import uuid

import pytest

from apps.content.atom_types import get_atom_type

from .atom_type_helpers import grade, render, response_errors, validation_errors

KEY = "matching"
CONTENT = {
    "prompt": "Classify.",
    "left": ["dog", "salmon", "cat"],
    "right": ["mammal", "fish", "bird"],
}
GRADING = {"pairs": {"dog": "mammal", "salmon": "fish", "cat": "mammal"}}


def matching(pairs, **kwargs):
    kwargs = {"content": CONTENT, "grading": GRADING, **kwargs}
    return grade(KEY, {"pairs": pairs}, **kwargs)


@pytest.mark.parametrize(
    ("content", "path"),
    [
        ({**CONTENT, "prompt": ""}, "content.prompt"),
        ({**CONTENT, "left": ["dog"]}, "content.left"),
        ({**CONTENT, "left": ["dog", "dog ", "cat"]}, "content.left"),
        ({**CONTENT, "right": ["mammal", "fish", "mammal"]}, "content.right"),
        ({**CONTENT, "right": ["mammal", ""]}, "content.right.1"),
        ({**CONTENT, "right": "mammal"}, "content.right"),
        ({"prompt": "P", "left": ["a", "b"]}, "content.right"),
        ({**CONTENT, "hint": "x"}, "content.hint"),
    ],
)
def test_content_rejections(content, path):
    assert path in validation_errors(KEY, content=content, grading=GRADING)


def test_duplicate_item_is_named():
    errors = validation_errors(KEY, content={**CONTENT, "left": ["dog", "cat", "dog"]})
    assert errors["content.left"] == ["'dog' is listed twice."]


@pytest.mark.parametrize(
    ("pairs", "path"),
    [
        ({"dog": "mammal", "salmon": "fish"}, "grading_logic.pairs"),
        ({**GRADING["pairs"], "cow": "mammal"}, "grading_logic.pairs.cow"),
        ({**GRADING["pairs"], "cat": "reptile"}, "grading_logic.pairs.cat"),
        ({**GRADING["pairs"], "cat": 1}, "grading_logic.pairs.cat"),
        (["dog", "mammal"], "grading_logic.pairs"),
    ],
)
def test_grading_rejections(pairs, path):
    assert path in validation_errors(KEY, content=CONTENT, grading={"pairs": pairs})


def test_missing_grading_pairs():
    assert "grading_logic.pairs" in validation_errors(KEY, content=CONTENT, grading={})


def test_all_pairs_right():
    result = matching({"cat": "mammal", "dog": "mammal", "salmon": "fish"})
    assert (result.correct, result.score) == (True, 1.0)
    assert result.details == {"pairs": {"dog": True, "salmon": True, "cat": True}}


def test_partial_credit_and_missing_lefts_count_as_wrong():
    result = matching({"dog": "mammal", "salmon": "bird"})
    assert result.correct is False
    assert result.score == pytest.approx(1 / 3)
    assert result.details == {"pairs": {"dog": True, "salmon": False, "cat": False}}
    assert matching({}).score == 0.0


def test_texts_are_compared_after_stripping():
    assert matching({" dog ": "mammal ", "salmon": "fish", "cat": "mammal"}).correct is True


@pytest.mark.parametrize(
    ("pairs", "path"),
    [
        ({"cow": "mammal"}, "response.pairs.cow"),
        ({"dog": "reptile"}, "response.pairs.dog"),
        ({"Dog": "mammal"}, "response.pairs.Dog"),
        ({"dog": 1}, "response.pairs.dog"),
        ({"dog": None}, "response.pairs.dog"),
        ({"dog": ["mammal"]}, "response.pairs.dog"),
        ([["dog", "mammal"]], "response.pairs"),
    ],
)
def test_malformed_pairs(pairs, path):
    assert path in response_errors(KEY, {"pairs": pairs}, content=CONTENT, grading=GRADING)


def test_rendering_shows_left_in_order_and_right_shuffled():
    rendered = render(KEY, content=CONTENT, grading=GRADING)
    assert set(rendered) == {"prompt", "left", "right"}
    assert rendered["left"] == CONTENT["left"]
    assert sorted(rendered["right"]) == sorted(CONTENT["right"])


@pytest.mark.parametrize(
    ("right", "pairs"),
    [
        (["1", "2"], {"a": "1", "b": "2"}),
        (["2", "1"], {"a": "1", "b": "2"}),
        (["3", "1", "2"], {"a": "1", "b": "2"}),
    ],
)
def test_right_items_never_line_up_with_their_matches(right, pairs):
    content = {"prompt": "P", "left": ["a", "b"], "right": right}
    for _ in range(100):
        atom_id = str(uuid.uuid4())
        shown = render(KEY, content=content, grading={"pairs": pairs}, atom_id=atom_id)["right"]
        assert shown[:2] != [pairs["a"], pairs["b"]]


def test_example_rendering_leaks_no_answer():
    kind = get_atom_type(KEY)
    rendered = render(KEY)
    pairs = kind.example_grading_logic["pairs"]
    assert rendered["right"][: len(rendered["left"])] != [pairs[text] for text in rendered["left"]]
    assert "pairs" not in rendered


def test_no_misconceptions():
    kind = get_atom_type(KEY)
    content, grading = kind.validate(CONTENT, GRADING)
    assert kind.misconception_ids(content, grading) == set()
