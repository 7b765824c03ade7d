"""Parsons problems: rendered ids, distractors, LCS partial credit."""

import json
import uuid

import pytest

from apps.content.atom_types import get_atom_type

from .atom_type_helpers import (
    grade,
    ids_for,
    render,
    response_errors,
    sequence_response,
    validation_errors,
)

KEY = "parsons"
MISCONCEPTION = uuid.uuid4()
CONTENT = {
    "prompt": "Swap a and b.",
    "blocks": ["tmp = a", "a = b", "b = tmp", "a = tmp", "b = a"],
}
GRADING = {"correct_order": [0, 1, 2], "distractor_misconceptions": {"4": str(MISCONCEPTION)}}


def parsons(indexes, **kwargs):
    kwargs = {"content": CONTENT, "grading": GRADING, **kwargs}
    return grade(KEY, sequence_response(KEY, "blocks", indexes, **kwargs), **kwargs)


@pytest.mark.parametrize(
    ("content", "path"),
    [
        ({"blocks": ["a", "b"]}, "content.prompt"),
        ({"prompt": "P"}, "content.blocks"),
        ({"prompt": "P", "blocks": ["a"]}, "content.blocks"),
        ({"prompt": "P", "blocks": "a\nb"}, "content.blocks"),
        ({"prompt": "P", "blocks": ["a", "   "]}, "content.blocks.1"),
        ({"prompt": "P", "blocks": [1, "b"]}, "content.blocks.0"),
        ({"prompt": "P", "blocks": ["a"] * 101}, "content.blocks"),
        ({"prompt": "P", "blocks": ["a", "b"], "language": "py"}, "content.language"),
    ],
)
def test_content_rejections(content, path):
    grading = {"correct_order": [0, 1]}
    assert path in validation_errors(KEY, content=content, grading=grading)


@pytest.mark.parametrize(
    ("grading", "path"),
    [
        ({}, "grading_logic.correct_order"),
        ({"correct_order": [0]}, "grading_logic.correct_order"),
        ({"correct_order": [0, 5]}, "grading_logic.correct_order.1"),
        ({"correct_order": [-1, 0]}, "grading_logic.correct_order.0"),
        ({"correct_order": [0, 0]}, "grading_logic.correct_order"),
        ({"correct_order": [True, 1]}, "grading_logic.correct_order.0"),
        ({"correct_order": ["0", "1"]}, "grading_logic.correct_order.0"),
        (
            {"correct_order": [0, 1], "distractor_misconceptions": {"1": str(uuid.uuid4())}},
            "grading_logic.distractor_misconceptions.1",
        ),
        (
            {"correct_order": [0, 1], "distractor_misconceptions": {"9": str(uuid.uuid4())}},
            "grading_logic.distractor_misconceptions.9",
        ),
        (
            {"correct_order": [0, 1], "distractor_misconceptions": {"03": str(uuid.uuid4())}},
            "grading_logic.distractor_misconceptions.03",
        ),
        (
            {"correct_order": [0, 1], "distractor_misconceptions": {"x": str(uuid.uuid4())}},
            "grading_logic.distractor_misconceptions.x",
        ),
        (
            {"correct_order": [0, 1], "distractor_misconceptions": {"3": "nope"}},
            "grading_logic.distractor_misconceptions.3",
        ),
    ],
)
def test_grading_rejections(grading, path):
    assert path in validation_errors(KEY, content=CONTENT, grading=grading)


def test_distractor_may_not_read_like_a_solution_block():
    content = {"prompt": "P", "blocks": ["a", "b", "a"]}
    errors = validation_errors(KEY, content=content, grading={"correct_order": [0, 1]})
    assert list(errors) == ["content.blocks.2"]


def test_indentation_is_kept():
    blocks = get_atom_type(KEY).example_content["blocks"]
    rendered = render(KEY)["blocks"]
    assert sorted(b["text"] for b in rendered) == sorted(blocks)
    assert any(b["text"].startswith("        ") for b in rendered)


def test_correct_order():
    result = parsons([0, 1, 2])
    assert (result.correct, result.score, result.misconception_id) == (True, 1.0, None)


@pytest.mark.parametrize(
    ("indexes", "score"),
    [
        ([1, 0, 2], 2 / 3),  # one block out of place
        ([2, 1, 0], 1 / 3),
        ([0, 1], 2 / 3),  # a block missing
        ([0, 1, 3, 2], 3 / 4),  # a distractor added
        ([], 0.0),
    ],
)
def test_partial_credit_is_lcs_over_the_longer_sequence(indexes, score):
    result = parsons(indexes)
    assert result.correct is False
    assert result.score == pytest.approx(score)


def test_distractor_with_a_misconception_reports_it():
    result = parsons([0, 4, 2])
    assert result.correct is False
    assert result.misconception_id == MISCONCEPTION
    assert parsons([0, 3, 2]).misconception_id is None


def test_identical_blocks_are_interchangeable():
    content = {"prompt": "P", "blocks": ["if x:", "    pass", "else:", "    pass"]}
    grading = {"correct_order": [0, 1, 2, 3]}
    rendered = render(KEY, content=content, grading=grading)["blocks"]
    ids = ids_for(rendered, content["blocks"])
    pass_ids = [b["id"] for b in rendered if b["text"] == "    pass"]
    swap = {pass_ids[0]: pass_ids[1], pass_ids[1]: pass_ids[0]}
    swapped = [swap.get(i, i) for i in ids]
    assert swapped != ids
    for order in (ids, swapped):
        result = grade(KEY, {"order": order}, content=content, grading=grading)
        assert result.correct is True


@pytest.mark.parametrize(
    ("order", "path"),
    [
        ([0, 5], "response.order.1"),
        ([-1], "response.order.0"),
        ([0, 0], "response.order"),
        ([True, 0], "response.order.0"),
        (["0"], "response.order.0"),
        ([0.0], "response.order.0"),
        ("0,1,2", "response.order"),
        (list(range(101)), "response.order"),
    ],
)
def test_malformed_orders(order, path):
    assert path in response_errors(KEY, {"order": order}, content=CONTENT, grading=GRADING)


def test_rendering_never_shows_the_solution_in_order():
    blocks = CONTENT["blocks"]
    solution = [blocks[i] for i in GRADING["correct_order"]]
    for _ in range(200):
        atom_id = str(uuid.uuid4())
        rendered = render(KEY, content=CONTENT, grading=GRADING, atom_id=atom_id)["blocks"]
        assert [b["id"] for b in rendered] == list(range(len(blocks)))
        shown = [b["text"] for b in rendered if b["text"] in solution]
        assert shown != solution


def test_rendering_leaks_no_answer():
    rendered = render(KEY, content=CONTENT, grading=GRADING)
    assert set(rendered) == {"prompt", "blocks"}
    assert all(set(block) == {"id", "text"} for block in rendered["blocks"])
    text = json.dumps(rendered)
    assert "correct_order" not in text
    assert str(MISCONCEPTION) not in text
    # Submitting the example's blocks as displayed (distractors dropped) is not the answer.
    kind = get_atom_type(KEY)
    blocks = kind.example_content["blocks"]
    solution = {blocks[i] for i in kind.example_grading_logic["correct_order"]}
    as_shown = [b["id"] for b in render(KEY)["blocks"] if b["text"] in solution]
    assert grade(KEY, {"order": as_shown}).correct is False
    assert grade(KEY, {"order": list(range(len(blocks)))}).correct is False


def test_misconception_ids():
    kind = get_atom_type(KEY)
    content, grading = kind.validate(CONTENT, GRADING)
    assert kind.misconception_ids(content, grading) == {MISCONCEPTION}
