"""Cloze (fill in numbered blanks)."""

import json
import uuid

import pytest

from apps.content.atom_types import get_atom_type

from .atom_type_helpers import grade, render, response_errors, validation_errors

KEY = "cloze"
MISCONCEPTION = uuid.uuid4()
TEXT = {"text": "{{2}} comes after {{1}}."}
GRADING = {
    "blanks": [
        {"accepted": ["one", "1"]},
        {
            "accepted": ["Two"],
            "case_sensitive": True,
            "wrong_answers": [
                {"text": "three", "feedback": "Too far.", "misconception_id": str(MISCONCEPTION)},
                {"text": "TWO", "feedback": "Mind the case."},
            ],
        },
    ]
}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("No blanks here.", "at least one blank"),
        ("{{1}} and {{3}}", "each exactly once"),
        ("{{1}} and {{1}}", "each exactly once"),
        ("{{2}} only", "each exactly once"),
        ("{{0}} and {{1}}", "no spaces"),
        ("{{1}} and {{ 2 }}", "no spaces"),
        ("{{1}} and {{x}}", "no spaces"),
    ],
)
def test_placeholders_must_be_numbered_1_to_n(text, message):
    errors = validation_errors(KEY, content={"text": text}, grading=GRADING)
    assert list(errors) == ["content.text"]
    assert message in errors["content.text"][0]


@pytest.mark.parametrize(
    ("content", "path"),
    [({}, "content.text"), ({"text": 12}, "content.text"), ({**TEXT, "x": 1}, "content.x")],
)
def test_content_rejections(content, path):
    assert path in validation_errors(KEY, content=content, grading=GRADING)


@pytest.mark.parametrize(
    ("grading", "path"),
    [
        ({}, "grading_logic.blanks"),
        ({"blanks": []}, "grading_logic.blanks"),
        ({"blanks": [{"accepted": []}, {"accepted": ["a"]}]}, "grading_logic.blanks.0.accepted"),
        ({"blanks": [{"accepted": ["a"]}, {}]}, "grading_logic.blanks.1.accepted"),
        ({"blanks": [{"accepted": ["a"]}, {"accepted": [2]}]}, "grading_logic.blanks.1.accepted.0"),
        (
            {"blanks": [{"accepted": ["a"]}, {"accepted": ["b"], "case_sensitive": "maybe"}]},
            "grading_logic.blanks.1.case_sensitive",
        ),
        (
            {"blanks": [{"accepted": ["a"]}, {"accepted": ["b"], "wrong_answers": [{}]}]},
            "grading_logic.blanks.1.wrong_answers.0.text",
        ),
        (
            {"blanks": [{"accepted": ["a"], "points": 2}, {"accepted": ["b"]}]},
            "grading_logic.blanks.0.points",
        ),
    ],
)
def test_grading_rejections(grading, path):
    assert path in validation_errors(KEY, content=TEXT, grading=grading)


def test_blank_count_must_match_placeholders():
    errors = validation_errors(KEY, content=TEXT, grading={"blanks": [{"accepted": ["one"]}]})
    assert errors == {"grading_logic.blanks": ["The text has 2 blank(s) but 1 are configured."]}


def test_wrong_answer_may_not_be_accepted():
    grading = {
        "blanks": [
            {"accepted": ["one"]},
            {"accepted": ["two"], "wrong_answers": [{"text": " TWO "}]},
        ]
    }
    errors = validation_errors(KEY, content=TEXT, grading=grading)
    assert list(errors) == ["grading_logic.blanks.1.wrong_answers.0.text"]


def test_all_blanks_right_with_normalised_whitespace_and_case():
    result = grade(KEY, {"blanks": ["  ONE ", "Two"]}, content=TEXT, grading=GRADING)
    assert (result.correct, result.score) == (True, 1.0)
    assert result.details == {"blanks": [True, True]}


def test_whitespace_inside_answers_is_collapsed():
    result = grade(KEY, {"blanks": ["network", "data \t  link"]})
    assert result.correct is True


def test_case_sensitive_blank_and_partial_credit():
    result = grade(KEY, {"blanks": ["1", "TWO"]}, content=TEXT, grading=GRADING)
    assert (result.correct, result.score) == (False, 0.5)
    assert result.details == {"blanks": [True, False]}
    assert result.feedback == "Mind the case."
    assert result.misconception_id is None


def test_known_wrong_answer_reports_its_misconception():
    result = grade(KEY, {"blanks": ["zero", "three"]}, content=TEXT, grading=GRADING)
    assert (result.correct, result.score) == (False, 0.0)
    assert result.misconception_id == MISCONCEPTION
    assert result.feedback == "Too far."


@pytest.mark.parametrize(
    ("blanks", "path"),
    [
        (["one"], "response.blanks"),
        (["one", "two", "three"], "response.blanks"),
        ([], "response.blanks"),
        (["one", 2], "response.blanks.1"),
        (["one", None], "response.blanks.1"),
        (["one", "x" * 1001], "response.blanks.1"),
        ("one two", "response.blanks"),
        ({"1": "one"}, "response.blanks"),
    ],
)
def test_malformed_blanks(blanks, path):
    assert path in response_errors(KEY, {"blanks": blanks}, content=TEXT, grading=GRADING)


def test_rendering_keeps_placeholders_and_hides_answers():
    rendered = render(KEY)
    assert rendered == {"text": get_atom_type(KEY).example_content["text"], "blank_count": 2}
    text = json.dumps(rendered)
    for blank in get_atom_type(KEY).example_grading_logic["blanks"]:
        for answer in blank["accepted"]:
            assert answer not in text
        for wrong in blank.get("wrong_answers", []):
            assert wrong["feedback"] not in text


def test_misconception_ids():
    kind = get_atom_type(KEY)
    content, grading = kind.validate(TEXT, GRADING)
    assert kind.misconception_ids(content, grading) == {MISCONCEPTION}
