"""Rules every atom type follows: registry, examples, schemas, response shape, no leaks.

Pure Python: no database. Type-specific cases live in test_atom_type_<key>.py.
"""

import json
import math
from uuid import UUID

import pytest

from apps.content.atom_types import (
    AtomValidationError,
    OptionData,
    atom_type_choices,
    atom_type_keys,
    get_atom_type,
)
from apps.content.atom_types.base import ENGAGEMENT_MODES, KNOWLEDGE_DIMENSIONS

from .atom_type_helpers import (
    grade,
    render,
    response_errors,
    sequence_response,
    snapshot,
    validation_errors,
    walk_keys,
)

KEYS = [
    "cloze",
    "flashcard",
    "matching",
    "mcq",
    "multi_select",
    "numeric",
    "ordering",
    "parsons",
    "short_text",
    "true_false",
]

# A fully correct response to each type's example atom.
CORRECT_RESPONSES = {
    "cloze": lambda: {"blanks": ["network", "data link"]},
    "flashcard": lambda: {"quality": 5},
    "matching": lambda: {"pairs": {"HTTP": "80", "HTTPS": "443", "SSH": "22"}},
    "mcq": lambda: {"choice": 1},
    "multi_select": lambda: {"choices": [0, 2]},
    "numeric": lambda: {"value": 30, "unit": "km"},
    "ordering": lambda: sequence_response("ordering", "items", [0, 1, 2, 3]),
    "parsons": lambda: sequence_response("parsons", "blocks", [0, 1, 2, 3, 4]),
    "short_text": lambda: {"text": "GET"},
    "true_false": lambda: {"value": False},
}

# The field every response must carry.
RESPONSE_FIELD = {
    "cloze": "blanks",
    "flashcard": "quality",
    "matching": "pairs",
    "mcq": "choice",
    "multi_select": "choices",
    "numeric": "value",
    "ordering": "order",
    "parsons": "order",
    "short_text": "text",
    "true_false": "value",
}

# Keys that carry answers, feedback or misconception links: never in a rendering.
ANSWER_KEYS = {
    "accepted",
    "answer",
    "back",
    "correct",
    "correct_order",
    "distractor_misconceptions",
    "explanation",
    "feedback",
    "feedback_wrong",
    "is_correct",
    "misconception",
    "misconception_id",
    "pairs",
    "regex",
    "tolerance",
    "unit_factors",
    "wrong_answers",
}


def test_all_types_are_registered():
    assert atom_type_keys() == KEYS
    assert [key for key, _ in atom_type_choices()] == KEYS
    assert all(label for _, label in atom_type_choices())


def test_unknown_type_names_the_known_ones():
    with pytest.raises(AtomValidationError) as info:
        get_atom_type("essay")
    (message,) = info.value.errors["atom_type"]
    assert "'essay'" in message
    for key in KEYS:
        assert key in message


def test_every_type_has_a_correct_response_fixture():
    assert set(CORRECT_RESPONSES) == set(RESPONSE_FIELD) == set(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_metadata_defaults_are_valid(key):
    kind = get_atom_type(key)
    assert kind.key == key
    assert kind.default_engagement_mode in ENGAGEMENT_MODES
    assert kind.default_knowledge_dimension in KNOWLEDGE_DIMENSIONS
    assert 0.0 <= kind.default_element_interactivity <= 1.0
    assert bool(kind.example_options) == kind.uses_options


@pytest.mark.parametrize("key", KEYS)
def test_example_payload_validates(key):
    kind = get_atom_type(key)
    content, grading = kind.validate(
        kind.example_content, kind.example_grading_logic, kind.example_options
    )
    assert isinstance(content, kind.content_model)
    assert isinstance(grading, kind.grading_model)
    assert kind.search_text(content, kind.example_options)
    ids = kind.misconception_ids(content, grading)
    assert isinstance(ids, set)
    assert all(isinstance(i, UUID) for i in ids)


@pytest.mark.parametrize("key", KEYS)
def test_example_correct_response_gets_full_marks(key):
    result = grade(key, CORRECT_RESPONSES[key]())
    assert result.correct is True
    assert result.score == 1.0
    assert result.misconception_id is None
    json.dumps(result.details)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("model", ["content_model", "grading_model", "response_model"])
def test_models_describe_every_field(key, model):
    """The admin generates its forms from these schemas: every field needs a description."""
    schema = getattr(get_atom_type(key), model).model_json_schema()
    for definition in [schema, *schema.get("$defs", {}).values()]:
        assert definition.get("additionalProperties") is False
        for name, prop in definition.get("properties", {}).items():
            assert prop.get("description"), f"{definition['title']}.{name} has no description"


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("field", ["content", "grading_logic"])
def test_payload_must_be_an_object(key, field):
    bad = {"content": "text"} if field == "content" else {"grading": ["x"]}
    assert validation_errors(key, **bad) == {field: ["Must be a JSON object."]}


@pytest.mark.parametrize("key", KEYS)
def test_unknown_content_key_is_rejected(key):
    content = {**get_atom_type(key).example_content, "answer_hint": "x"}
    assert "content.answer_hint" in validation_errors(key, content=content)


@pytest.mark.parametrize("key", KEYS)
def test_unknown_grading_key_is_rejected(key):
    grading = {**get_atom_type(key).example_grading_logic, "weight": 2}
    assert "grading_logic.weight" in validation_errors(key, grading=grading)


@pytest.mark.parametrize("key", [k for k in KEYS if not get_atom_type(k).uses_options])
def test_options_are_rejected_where_unused(key):
    options = (OptionData(0, "A", True), OptionData(1, "B", False))
    errors = validation_errors(key, options=options)
    assert list(errors) == ["options"]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("response", [None, [], "text", 3])
def test_response_must_be_an_object(key, response):
    assert response_errors(key, response) == {"response": ["Must be a JSON object."]}


@pytest.mark.parametrize("key", KEYS)
def test_response_missing_its_field_is_rejected(key):
    assert f"response.{RESPONSE_FIELD[key]}" in response_errors(key, {})


@pytest.mark.parametrize("key", KEYS)
def test_response_with_an_extra_key_is_rejected(key):
    response = {**CORRECT_RESPONSES[key](), "is_correct": True}
    assert list(response_errors(key, response)) == ["response.is_correct"]


@pytest.mark.parametrize("key", KEYS)
def test_invalid_atom_is_not_graded(key):
    atom = snapshot(key, content={})
    with pytest.raises(AtomValidationError):
        get_atom_type(key).grade_response(atom, CORRECT_RESPONSES[key]())


@pytest.mark.parametrize("key", KEYS)
def test_rendering_has_no_answer_keys(key):
    rendered = render(key)
    text = json.dumps(rendered)
    assert json.loads(text) == rendered

    def visit(name: str) -> None:
        assert name not in ANSWER_KEYS, f"{key} renders {name!r}"

    walk_keys(rendered, visit)


@pytest.mark.parametrize("key", KEYS)
def test_rendering_is_stable(key):
    assert render(key) == render(key)


@pytest.mark.parametrize("key", KEYS)
def test_scores_stay_in_range_for_an_empty_answer(key):
    empty = {
        "cloze": {"blanks": ["", ""]},
        "flashcard": {"quality": 0},
        "matching": {"pairs": {}},
        "mcq": {"choice": 0},
        "multi_select": {"choices": []},
        "numeric": {"value": 0},
        "ordering": CORRECT_RESPONSES["ordering"](),
        "parsons": {"order": []},
        "short_text": {"text": ""},
        "true_false": {"value": True},
    }[key]
    result = grade(key, empty)
    assert 0.0 <= result.score <= 1.0
    assert not math.isnan(result.score)
