"""Numeric answers with tolerance and unit conversion."""

import json
import uuid

import pytest

from apps.content.atom_types import get_atom_type

from .atom_type_helpers import grade, render, response_errors, validation_errors

KEY = "numeric"
MISCONCEPTION = uuid.uuid4()
CONTENT = {"prompt": "How long is the track?", "unit": "m"}
GRADING = {
    "answer": 1500,
    "tolerance": 5,
    "unit_factors": {"km": 1000, "cm": 0.01},
    "wrong_answers": [
        {"value": 150, "feedback": "Off by ten.", "misconception_id": str(MISCONCEPTION)}
    ],
}


def numeric(response, **grading):
    return grade(KEY, response, content=CONTENT, grading={**GRADING, **grading})


@pytest.mark.parametrize(
    ("content", "path"),
    [
        ({"unit": "m"}, "content.prompt"),
        ({"prompt": "Q?", "unit": 1}, "content.unit"),
        ({"prompt": "Q?", "answer": 1}, "content.answer"),
    ],
)
def test_content_rejections(content, path):
    assert path in validation_errors(KEY, content=content, grading=GRADING)


@pytest.mark.parametrize(
    ("grading", "path"),
    [
        ({}, "grading_logic.answer"),
        ({"answer": "1500"}, "grading_logic.answer"),
        ({"answer": True}, "grading_logic.answer"),
        ({"answer": float("nan")}, "grading_logic.answer"),
        ({"answer": float("inf")}, "grading_logic.answer"),
        ({"answer": 1, "tolerance": -0.5}, "grading_logic.tolerance"),
        ({"answer": 1, "tolerance": float("inf")}, "grading_logic.tolerance"),
        ({"answer": 1, "tolerance_mode": "percent"}, "grading_logic.tolerance_mode"),
        ({"answer": 1, "unit_factors": {"km": 0}}, "grading_logic.unit_factors.km"),
        ({"answer": 1, "unit_factors": {"km": -1000}}, "grading_logic.unit_factors.km"),
        ({"answer": 1, "unit_factors": {"km": "1000"}}, "grading_logic.unit_factors.km"),
        ({"answer": 1, "unit_factors": ["km"]}, "grading_logic.unit_factors"),
        ({"answer": 1, "wrong_answers": [{"value": False}]}, "grading_logic.wrong_answers.0.value"),
        (
            {"answer": 1, "wrong_answers": [{"value": 2, "misconception_id": "x"}]},
            "grading_logic.wrong_answers.0.misconception_id",
        ),
    ],
)
def test_grading_rejections(grading, path):
    assert path in validation_errors(KEY, content=CONTENT, grading=grading)


def test_canonical_unit_needs_no_factor():
    errors = validation_errors(KEY, content=CONTENT, grading={**GRADING, "unit_factors": {"m": 1}})
    assert list(errors) == ["grading_logic.unit_factors.m"]


def test_other_units_need_a_canonical_unit():
    errors = validation_errors(
        KEY, content={"prompt": "How far?"}, grading={"answer": 3, "unit_factors": {"km": 1000}}
    )
    assert list(errors) == ["grading_logic.unit_factors.km"]


def test_wrong_answer_within_tolerance_is_inconsistent():
    grading = {**GRADING, "wrong_answers": [{"value": 1504}]}
    errors = validation_errors(KEY, content=CONTENT, grading=grading)
    assert list(errors) == ["grading_logic.wrong_answers.0.value"]


@pytest.mark.parametrize(
    "response",
    [
        {"value": 1500},
        {"value": 1500.0, "unit": "m"},
        {"value": 1504.9},
        {"value": 1495},
        {"value": 1.5, "unit": "km"},
        {"value": 150000, "unit": "cm"},
    ],
)
def test_correct_within_tolerance_and_in_other_units(response):
    result = numeric(response)
    assert (result.correct, result.score) == (True, 1.0)
    assert result.details["unit"] == "m"


@pytest.mark.parametrize("response", [{"value": 1506}, {"value": 1.4, "unit": "km"}])
def test_wrong_outside_tolerance(response):
    result = numeric(response)
    assert (result.correct, result.score, result.misconception_id) == (False, 0.0, None)


def test_exact_answer_survives_float_noise():
    assert numeric({"value": 0.3}, answer=0.1 + 0.2, tolerance=0).correct is True
    assert numeric({"value": 0.3, "unit": "km"}, answer=300, tolerance=0).correct is True


def test_relative_tolerance_scales_with_the_answer():
    assert numeric({"value": 1514}, tolerance=0.01, tolerance_mode="relative").correct is True
    assert numeric({"value": 1516}, tolerance=0.01, tolerance_mode="relative").correct is False


def test_known_wrong_value_reports_misconception_in_any_unit():
    result = numeric({"value": 0.152, "unit": "km"})
    assert (result.correct, result.score) == (False, 0.0)
    assert result.misconception_id == MISCONCEPTION
    assert result.feedback == "Off by ten."


@pytest.mark.parametrize(
    ("response", "path"),
    [
        ({"value": "1500"}, "response.value"),
        ({"value": True}, "response.value"),
        ({"value": None}, "response.value"),
        ({"value": float("nan")}, "response.value"),
        ({"value": float("-inf")}, "response.value"),
        ({"value": 10**400}, "response.value"),
        ({"value": 1e308, "unit": "km"}, "response.value"),
        ({"value": 1500, "unit": "mi"}, "response.unit"),
        ({"value": 1500, "unit": "M"}, "response.unit"),
        ({"value": 1500, "unit": 1}, "response.unit"),
    ],
)
def test_malformed_responses(response, path):
    assert path in response_errors(KEY, response, content=CONTENT, grading=GRADING)


def test_unknown_unit_message_lists_accepted_units():
    errors = response_errors(KEY, {"value": 1, "unit": "ft"}, content=CONTENT, grading=GRADING)
    assert errors == {"response.unit": ["Unknown unit 'ft'; use 'm', 'km', 'cm'."]}


def test_unitless_question_rejects_units():
    errors = response_errors(
        KEY, {"value": 4, "unit": "m"}, content={"prompt": "2 + 2?"}, grading={"answer": 4}
    )
    assert "takes no unit" in errors["response.unit"][0]
    assert grade(KEY, {"value": 4}, content={"prompt": "2 + 2?"}, grading={"answer": 4}).correct


def test_rendering_shows_prompt_and_unit_only():
    rendered = render(KEY, content=CONTENT, grading=GRADING)
    assert rendered == {"prompt": "How long is the track?", "unit": "m"}
    example = render(KEY)
    text = json.dumps(example)
    assert "30" not in text  # the example's answer
    assert "1800" not in text  # its known wrong value
    assert "km" in text


def test_misconception_ids():
    kind = get_atom_type(KEY)
    content, grading = kind.validate(CONTENT, GRADING)
    assert kind.misconception_ids(content, grading) == {MISCONCEPTION}
