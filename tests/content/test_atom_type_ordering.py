"""Ordering: every item in order, by rendered id; LCS partial credit."""

import json
import uuid

import pytest

from apps.content.atom_types import get_atom_type

from .atom_type_helpers import grade, render, response_errors, sequence_response, validation_errors

KEY = "ordering"
CONTENT = {"prompt": "Smallest first.", "items": ["ten", "one", "hundred", "five"]}
GRADING = {"correct_order": [1, 3, 0, 2]}


def ordering(indexes, **kwargs):
    kwargs = {"content": CONTENT, "grading": GRADING, **kwargs}
    return grade(KEY, sequence_response(KEY, "items", indexes, **kwargs), **kwargs)


@pytest.mark.parametrize(
    ("content", "path"),
    [
        ({"items": ["a", "b"]}, "content.prompt"),
        ({"prompt": "P", "items": ["a"]}, "content.items"),
        ({"prompt": "P", "items": ["a", ""]}, "content.items.1"),
        ({"prompt": "P", "items": ["a", 2]}, "content.items.1"),
        ({"prompt": "P", "items": {"a": 1}}, "content.items"),
        ({"prompt": "P", "items": ["a", "b"], "reverse": True}, "content.reverse"),
    ],
)
def test_content_rejections(content, path):
    assert path in validation_errors(KEY, content=content, grading={"correct_order": [0, 1]})


@pytest.mark.parametrize(
    ("correct_order", "path"),
    [
        (None, "grading_logic.correct_order"),
        ([1, 3, 0], "grading_logic.correct_order"),
        ([1, 3, 0, 2, 4], "grading_logic.correct_order"),
        ([1, 1, 0, 2], "grading_logic.correct_order"),
        ([1, 3, 0, True], "grading_logic.correct_order.3"),
        ([1, 3, 0, 2.0], "grading_logic.correct_order.3"),
    ],
)
def test_correct_order_must_be_a_permutation(correct_order, path):
    grading = {} if correct_order is None else {"correct_order": correct_order}
    assert path in validation_errors(KEY, content=CONTENT, grading=grading)


def test_exact_order():
    result = ordering([1, 3, 0, 2])
    assert (result.correct, result.score) == (True, 1.0)


@pytest.mark.parametrize(
    ("indexes", "score"),
    [([3, 1, 0, 2], 0.75), ([2, 0, 3, 1], 0.25), ([0, 2, 1, 3], 0.5)],
)
def test_partial_credit_is_lcs_over_n(indexes, score):
    result = ordering(indexes)
    assert result.correct is False
    assert result.score == pytest.approx(score)


@pytest.mark.parametrize(
    ("order", "path"),
    [
        ([0, 1, 2], "response.order"),
        ([0, 1, 2, 2], "response.order"),
        ([0, 1, 2, 4], "response.order.3"),
        ([0, 1, 2, -3], "response.order.3"),
        ([0, 1, 2, True], "response.order.3"),
        ([0, 1, 2, "3"], "response.order.3"),
        ([], "response.order"),
        ({"0": 1}, "response.order"),
    ],
)
def test_response_must_be_a_permutation_of_rendered_ids(order, path):
    assert path in response_errors(KEY, {"order": order}, content=CONTENT, grading=GRADING)


@pytest.mark.parametrize(
    ("items", "correct_order"),
    [
        (["a", "b"], [0, 1]),
        (["a", "b"], [1, 0]),
        (["a", "b", "c"], [2, 0, 1]),
        (["a", "b", "c", "d", "e"], [4, 3, 2, 1, 0]),
    ],
)
def test_rendering_never_shows_the_correct_order(items, correct_order):
    content = {"prompt": "P", "items": items}
    grading = {"correct_order": correct_order}
    solution = [items[i] for i in correct_order]
    for _ in range(100):
        atom_id = str(uuid.uuid4())
        rendered = render(KEY, content=content, grading=grading, atom_id=atom_id)["items"]
        assert [item["id"] for item in rendered] == list(range(len(items)))
        assert [item["text"] for item in rendered] != solution
        shown_order = {"order": list(range(len(items)))}
        kwargs = {"content": content, "grading": grading, "atom_id": atom_id}
        assert grade(KEY, shown_order, **kwargs).correct is False


def test_rendering_leaks_no_answer():
    rendered = render(KEY)
    assert set(rendered) == {"prompt", "items"}
    assert all(set(item) == {"id", "text"} for item in rendered["items"])
    assert "correct_order" not in json.dumps(rendered)
    kind = get_atom_type(KEY)
    items = kind.example_content["items"]
    solution = [items[i] for i in kind.example_grading_logic["correct_order"]]
    assert [item["text"] for item in rendered["items"]] != solution


def test_no_misconceptions():
    kind = get_atom_type(KEY)
    content, grading = kind.validate(CONTENT, GRADING)
    assert kind.misconception_ids(content, grading) == set()
