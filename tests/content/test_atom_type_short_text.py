"""Short text answers: normalisation, regex, known wrong answers."""

import json
import uuid

import pytest

from apps.content.atom_types import get_atom_type
from apps.content.atom_types.short_text import normalise_text

from .atom_type_helpers import grade, render, response_errors, validation_errors

KEY = "short_text"
MISCONCEPTION = uuid.uuid4()
CONTENT = {"prompt": "Name the capital city."}
GRADING = {
    "accepted": ["São Paulo"],
    "wrong_answers": [
        {"text": "Rio", "feedback": "Not any more.", "misconception_id": str(MISCONCEPTION)}
    ],
}


def short_text(text, **grading):
    return grade(KEY, {"text": text}, content=CONTENT, grading={**GRADING, **grading})


@pytest.mark.parametrize(
    ("content", "path"),
    [
        ({}, "content.prompt"),
        ({"prompt": 1}, "content.prompt"),
        ({"prompt": "Q", "a": 1}, "content.a"),
    ],
)
def test_content_rejections(content, path):
    assert path in validation_errors(KEY, content=content, grading=GRADING)


@pytest.mark.parametrize(
    ("grading", "path"),
    [
        ({}, "grading_logic.accepted"),
        ({"accepted": []}, "grading_logic.accepted"),
        ({"accepted": "GET"}, "grading_logic.accepted"),
        ({"accepted": [None]}, "grading_logic.accepted.0"),
        ({"accepted": ["a"], "ignore_accents": "maybe"}, "grading_logic.ignore_accents"),
        ({"accepted": ["a"], "regex": "("}, "grading_logic.regex"),
        ({"accepted": ["a"], "regex": "a" * 501}, "grading_logic.regex"),
        (
            {"accepted": ["a"], "wrong_answers": [{"feedback": "x"}]},
            "grading_logic.wrong_answers.0.text",
        ),
        ({"accepted": ["a"], "synonyms": ["b"]}, "grading_logic.synonyms"),
    ],
)
def test_grading_rejections(grading, path):
    assert path in validation_errors(KEY, content=CONTENT, grading=grading)


def test_invalid_regex_message_is_clear():
    errors = validation_errors(KEY, content=CONTENT, grading={"accepted": ["a"], "regex": "(ab"})
    assert errors["grading_logic.regex"][0].startswith("Not a valid regular expression:")


@pytest.mark.parametrize("blank", ["", "  "])
def test_blank_form_fields_mean_none(blank):
    grading = {
        "accepted": ["a"],
        "regex": blank,
        "wrong_answers": [{"text": "b", "misconception_id": blank}],
    }
    result = grade(KEY, {"text": "b"}, content=CONTENT, grading=grading)
    assert (result.correct, result.misconception_id) == (False, None)
    assert grade(KEY, {"text": "c"}, content=CONTENT, grading=grading).correct is False


def test_accepted_answer_may_not_normalise_to_nothing():
    errors = validation_errors(KEY, content=CONTENT, grading={"accepted": ["ok", "?!"]})
    assert list(errors) == ["grading_logic.accepted.1"]


def test_wrong_answer_may_not_be_accepted():
    grading = {"accepted": ["colour"], "regex": "colou?r", "wrong_answers": [{"text": "Color"}]}
    errors = validation_errors(KEY, content=CONTENT, grading=grading)
    assert list(errors) == ["grading_logic.wrong_answers.0.text"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "são paulo!"),
        ({"case_sensitive": True}, "São Paulo!"),
        ({"ignore_punctuation": True}, "são paulo"),
        ({"ignore_accents": True}, "sao paulo!"),
    ],
)
def test_normalise_text(kwargs, expected):
    assert normalise_text("  São \n Paulo! ", **kwargs) == expected


def test_punctuation_removal_does_not_leave_double_spaces():
    assert normalise_text("a - b", ignore_punctuation=True) == "a b"


@pytest.mark.parametrize("text", ["São Paulo", "  são   PAULO. ", "são paulo"])
def test_correct_answers(text):
    result = short_text(text)
    assert (result.correct, result.score) == (True, 1.0)


def test_accents_count_unless_ignored():
    assert short_text("Sao Paulo").correct is False
    assert short_text("Sao Paulo", ignore_accents=True).correct is True


def test_case_sensitive():
    assert short_text("são paulo", case_sensitive=True).correct is False
    assert short_text("São Paulo", case_sensitive=True).correct is True


def test_punctuation_counts_when_not_ignored():
    assert short_text("São Paulo!", ignore_punctuation=False).correct is False


def test_regex_matches_the_whole_normalised_answer():
    grading = {"regex": r"s(ã|a)o paulo( city)?"}
    assert short_text("SAO PAULO CITY", **grading).correct is True
    assert short_text("São Paulo city!", **grading).correct is True
    assert short_text("greater São Paulo", **grading).correct is False


def test_known_wrong_answer_reports_misconception():
    result = short_text(" rio. ")
    assert (result.correct, result.score) == (False, 0.0)
    assert result.misconception_id == MISCONCEPTION
    assert result.feedback == "Not any more."


def test_unknown_wrong_answer():
    result = short_text("Brasília")
    assert (result.correct, result.misconception_id, result.feedback) == (False, None, "")


@pytest.mark.parametrize(
    ("response", "path"),
    [
        ({"text": 5}, "response.text"),
        ({"text": None}, "response.text"),
        ({"text": ["São Paulo"]}, "response.text"),
        ({"text": "a" * 1001}, "response.text"),
        ({"answer": "São Paulo"}, "response.answer"),
    ],
)
def test_malformed_responses(response, path):
    assert path in response_errors(KEY, response, content=CONTENT, grading=GRADING)


def test_rendering_hides_accepted_answers():
    rendered = render(KEY)
    text = json.dumps(rendered).casefold()
    grading = get_atom_type(KEY).example_grading_logic
    for answer in grading["accepted"]:
        assert answer.casefold() not in text
    for wrong in grading["wrong_answers"]:
        assert wrong["text"].casefold() not in text
        assert wrong["feedback"].casefold() not in text
    assert set(rendered) == {"prompt", "max_length"}


def test_misconception_ids():
    kind = get_atom_type(KEY)
    content, grading = kind.validate(CONTENT, GRADING)
    assert kind.misconception_ids(content, grading) == {MISCONCEPTION}
