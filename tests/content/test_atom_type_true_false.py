"""True or false."""

import json
import uuid

import pytest

from apps.content.atom_types import get_atom_type

from .atom_type_helpers import grade, render, response_errors, validation_errors

KEY = "true_false"


@pytest.mark.parametrize(
    ("content", "path"),
    [
        ({}, "content.statement"),
        ({"statement": ""}, "content.statement"),
        ({"statement": ["a"]}, "content.statement"),
        ({"statement": "S", "answer": True}, "content.answer"),
    ],
)
def test_content_rejections(content, path):
    assert path in validation_errors(KEY, content=content)


@pytest.mark.parametrize(
    ("grading", "path"),
    [
        ({}, "grading_logic.answer"),
        ({"answer": "false"}, "grading_logic.answer"),
        ({"answer": 0}, "grading_logic.answer"),
        ({"answer": True, "misconception_id": "not-a-uuid"}, "grading_logic.misconception_id"),
        ({"answer": True, "feedback_right": "x"}, "grading_logic.feedback_right"),
    ],
)
def test_grading_rejections(grading, path):
    assert path in validation_errors(KEY, grading=grading)


def test_right_answer_gets_the_explanation_only():
    result = grade(KEY, {"value": False})
    assert (result.correct, result.score, result.misconception_id) == (True, 1.0, None)
    assert result.feedback == get_atom_type(KEY).example_content["explanation"]


def test_wrong_answer_reports_misconception_and_feedback():
    misconception = uuid.uuid4()
    grading = {"answer": False, "misconception_id": str(misconception), "feedback_wrong": "No."}
    result = grade(KEY, {"value": True}, grading=grading)
    assert (result.correct, result.score) == (False, 0.0)
    assert result.misconception_id == misconception
    assert result.feedback.startswith("No. ")


def test_blank_misconception_means_none():
    grading = {"answer": True, "misconception_id": ""}
    assert grade(KEY, {"value": False}, grading=grading).misconception_id is None


def test_true_statement():
    assert grade(KEY, {"value": True}, grading={"answer": True}).correct is True
    assert grade(KEY, {"value": False}, grading={"answer": True}).correct is False


@pytest.mark.parametrize("value", [1, 0, "true", None, [True]])
def test_malformed_value(value):
    assert "response.value" in response_errors(KEY, {"value": value})


def test_rendering_has_no_answer():
    rendered = render(KEY)
    assert rendered == {"statement": "UDP retransmits lost datagrams."}
    text = json.dumps(rendered)
    assert "answer" not in text
    assert "explanation" not in text


def test_misconception_ids():
    kind = get_atom_type(KEY)
    misconception = uuid.uuid4()
    _, grading = kind.validate(
        {"statement": "S"}, {"answer": True, "misconception_id": str(misconception)}
    )
    assert kind.misconception_ids(None, grading) == {misconception}
    _, grading = kind.validate(kind.example_content, kind.example_grading_logic)
    assert kind.misconception_ids(None, grading) == set()
