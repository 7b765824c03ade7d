"""Multiple select (one or more correct options, partial credit)."""

import json
import uuid

import pytest

from apps.content.atom_types import OptionData, get_atom_type

from .atom_type_helpers import grade, render, response_errors, validation_errors

KEY = "multi_select"
M1, M2 = uuid.uuid4(), uuid.uuid4()
OPTIONS = (
    OptionData(0, "A", True, "A is right."),
    OptionData(1, "B", False, "B is wrong.", M1),
    OptionData(2, "C", True),
    OptionData(3, "D", False, "", M2),
    OptionData(4, "E", False),
)


@pytest.mark.parametrize(
    ("content", "path"),
    [
        ({}, "content.prompt"),
        ({"prompt": None}, "content.prompt"),
        ({"prompt": "Q?", "extra": 1}, "content.extra"),
    ],
)
def test_content_rejections(content, path):
    assert path in validation_errors(KEY, content=content)


@pytest.mark.parametrize("scoring", ["some", 1, None])
def test_scoring_must_be_a_known_mode(scoring):
    assert "grading_logic.scoring" in validation_errors(KEY, grading={"scoring": scoring})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ((), "at least two"),
        ((OptionData(0, "A", True),), "at least two"),
        ((OptionData(0, "A", False), OptionData(1, "B", False)), "at least one"),
        ((OptionData(0, "A", True), OptionData(0, "B", True)), "unique"),
    ],
)
def test_option_consistency(options, message):
    errors = validation_errors(KEY, options=options)
    assert list(errors) == ["options"]
    assert any(message in m for m in errors["options"])


def test_several_correct_options_are_allowed():
    kind = get_atom_type(KEY)
    options = (OptionData(0, "A", True), OptionData(1, "B", True))
    kind.validate(kind.example_content, {}, options)


def test_exactly_the_correct_set():
    result = grade(KEY, {"choices": [2, 0]}, options=OPTIONS)
    assert (result.correct, result.score) == (True, 1.0)
    assert result.selected_option_indexes == (0, 2)
    assert result.misconception_id is None


@pytest.mark.parametrize(
    ("choices", "score"),
    [
        ([0], 0.5),
        ([0, 2, 4], 0.5),
        ([0, 1], 0.0),
        ([1, 3], 0.0),
        ([0, 1, 2, 3, 4], 0.0),
        ([], 0.0),
    ],
)
def test_partial_credit(choices, score):
    result = grade(KEY, {"choices": choices}, options=OPTIONS)
    assert result.correct is False
    assert result.score == pytest.approx(score)


def test_all_or_nothing():
    grading = {"scoring": "all_or_nothing"}
    assert grade(KEY, {"choices": [0]}, grading=grading, options=OPTIONS).score == 0.0
    assert grade(KEY, {"choices": [0, 2]}, grading=grading, options=OPTIONS).score == 1.0


def test_first_wrong_option_by_index_gives_the_misconception():
    result = grade(KEY, {"choices": [3, 1, 0]}, options=OPTIONS)
    assert result.misconception_id == M1
    assert result.selected_option_indexes == (0, 1, 3)
    assert grade(KEY, {"choices": [4, 3]}, options=OPTIONS).misconception_id == M2


def test_feedback_joins_picked_options_and_explanation():
    result = grade(KEY, {"choices": [1, 0]}, options=OPTIONS)
    explanation = get_atom_type(KEY).example_content["explanation"]
    assert result.feedback == f"A is right. B is wrong. {explanation}"


@pytest.mark.parametrize(
    ("choices", "path"),
    [
        ([5], "response.choices.0"),
        ([0, -1], "response.choices.1"),
        ([0, 0], "response.choices"),
        ([True], "response.choices.0"),
        (["0"], "response.choices.0"),
        (0, "response.choices"),
        (None, "response.choices"),
    ],
)
def test_malformed_choices(choices, path):
    assert path in response_errors(KEY, {"choices": choices}, options=OPTIONS)


def test_rendering_leaks_no_answer():
    text = json.dumps(render(KEY, options=OPTIONS))
    for secret in ["is_correct", "feedback", "A is right.", "B is wrong.", str(M1), str(M2)]:
        assert secret not in text
