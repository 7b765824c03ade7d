"""Flashcard (self-rated recall)."""

import json

import pytest

from apps.content.atom_types import get_atom_type

from .atom_type_helpers import grade, render, response_errors, validation_errors

KEY = "flashcard"
CARD = {"front": "Port for SSH?", "back": "22"}


@pytest.mark.parametrize(
    ("content", "path"),
    [
        ({"back": "22"}, "content.front"),
        ({"front": "Port for SSH?"}, "content.back"),
        ({"front": "  ", "back": "22"}, "content.front"),
        ({**CARD, "hint": 7}, "content.hint"),
        ({**CARD, "answer": "22"}, "content.answer"),
    ],
)
def test_content_rejections(content, path):
    assert path in validation_errors(KEY, content=content)


@pytest.mark.parametrize("pass_quality", [-1, 6, True, "3", 2.5])
def test_pass_quality_must_be_an_int_from_0_to_5(pass_quality):
    errors = validation_errors(KEY, grading={"pass_quality": pass_quality})
    assert "grading_logic.pass_quality" in errors


def test_pass_quality_defaults_to_3():
    assert grade(KEY, {"quality": 3}, grading={}).correct is True
    assert grade(KEY, {"quality": 2}, grading={}).correct is False


@pytest.mark.parametrize(
    ("quality", "correct", "score"),
    [(0, False, 0.0), (2, False, 0.4), (3, True, 0.6), (5, True, 1.0)],
)
def test_self_rating_sets_score_and_correctness(quality, correct, score):
    result = grade(KEY, {"quality": quality})
    assert result.correct is correct
    assert result.score == pytest.approx(score)
    assert result.feedback == get_atom_type(KEY).example_content["back"]


def test_pass_quality_is_configurable():
    assert grade(KEY, {"quality": 4}, grading={"pass_quality": 5}).correct is False
    assert grade(KEY, {"quality": 0}, grading={"pass_quality": 0}).correct is True


@pytest.mark.parametrize("quality", [6, -1, True, False, "5", 4.0, None])
def test_malformed_quality(quality):
    assert "response.quality" in response_errors(KEY, {"quality": quality})


def test_rendering_hides_the_back():
    rendered = render(KEY)
    assert rendered == {
        "front": "What does HTTP status code 404 mean?",
        "hint": "4xx codes are client errors.",
    }
    assert get_atom_type(KEY).example_content["back"] not in json.dumps(rendered)
