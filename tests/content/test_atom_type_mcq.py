"""Multiple choice (one correct option)."""

import json
import uuid

import pytest

from apps.content.atom_types import OptionData, get_atom_type

from .atom_type_helpers import grade, render, response_errors, validation_errors

KEY = "mcq"


@pytest.mark.parametrize(
    ("content", "path"),
    [
        ({}, "content.prompt"),
        ({"prompt": ""}, "content.prompt"),
        ({"prompt": 3}, "content.prompt"),
        ({"prompt": "Q?", "shuffle": "sometimes"}, "content.shuffle"),
        ({"prompt": "Q?", "colour": "red"}, "content.colour"),
    ],
)
def test_content_rejections(content, path):
    assert path in validation_errors(KEY, content=content)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ((OptionData(0, "A", True),), "at least two options"),
        ((OptionData(0, "A", True), OptionData(1, "B", True)), "Exactly one"),
        ((OptionData(0, "A", False), OptionData(1, "B", False)), "Exactly one"),
        ((OptionData(0, "A", True), OptionData(0, "B", False)), "unique"),
    ],
)
def test_option_consistency(options, message):
    errors = validation_errors(KEY, options=options)
    assert list(errors) == ["options"]
    assert any(message in m for m in errors["options"])


def test_correct_choice():
    result = grade(KEY, {"choice": 1})
    assert (result.correct, result.score) == (True, 1.0)
    assert result.selected_option_indexes == (1,)
    assert "TCP numbers and reorders segments." in result.feedback


def test_wrong_choice_reports_the_options_misconception():
    misconception = uuid.uuid4()
    options = (
        OptionData(0, "UDP", False, "No ordering promise.", misconception),
        OptionData(1, "TCP", True),
    )
    result = grade(KEY, {"choice": 0}, options=options)
    assert (result.correct, result.score) == (False, 0.0)
    assert result.misconception_id == misconception
    assert result.feedback == "No ordering promise."
    assert result.selected_option_indexes == (0,)


@pytest.mark.parametrize("choice", [3, -1, True, "1", 1.5, None, [1]])
def test_malformed_choice(choice):
    assert "response.choice" in response_errors(KEY, {"choice": choice})


def test_rendering_leaks_no_answer():
    text = json.dumps(render(KEY))
    assert "is_correct" not in text
    assert "feedback" not in text
    for option in get_atom_type(KEY).example_options:
        if option.feedback:
            assert option.feedback not in text


def test_misconceptions_are_linked_by_options_not_json():
    kind = get_atom_type(KEY)
    content, grading = kind.validate(
        kind.example_content, kind.example_grading_logic, kind.example_options
    )
    assert kind.misconception_ids(content, grading) == set()
