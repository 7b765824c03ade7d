"""How a v1 flashcard's back decides the v2 atom type (backfill/curriculum.py)."""

import json

import pytest

from apps.legacy_sync.backfill.curriculum import flashcard_payload


@pytest.mark.parametrize(
    ("back", "atom_type", "content", "grading", "options"),
    [
        (
            json.dumps({"options": ["Hund", "Katze", "Maus"], "correct_index": 1}),
            "mcq",
            {"prompt": "cat?"},
            {},
            [
                {"text": "Hund", "is_correct": False},
                {"text": "Katze", "is_correct": True},
                {"text": "Maus", "is_correct": False},
            ],
        ),
        (
            json.dumps({"blocks": ["a", "b", "c"], "correct_order": [2, 0, 1]}),
            "parsons",
            {"prompt": "cat?", "blocks": ["a", "b", "c"]},
            {"correct_order": [2, 0, 1]},
            [],
        ),
        (
            "  die Katze ",
            "flashcard",
            {"front": "cat?", "back": "die Katze"},
            {"pass_quality": 3},
            [],
        ),
    ],
    ids=["mcq", "parsons", "flashcard"],
)
def test_flashcard_type_is_inferred_from_its_back(back, atom_type, content, grading, options):
    assert flashcard_payload("cat?", back) == (atom_type, content, grading, options)


@pytest.mark.parametrize(
    ("back", "reason"),
    [
        ('{"options": ["a", "b"', "malformed_json_back: "),
        ("[1, 2", "malformed_json_back: "),
        ('{"question": "x", "answer": "y"}', "unrecognised_json_back: "),
        ('["a", "b"]', "unrecognised_json_back: "),
        ("", "empty_back: "),
        ("   ", "empty_back: "),
        (None, "empty_back: "),
        ('{"options": "a, b", "correct_index": 0}', "invalid_atom: "),
    ],
)
def test_flashcard_back_that_cannot_be_typed_is_refused_with_a_reason(back, reason):
    with pytest.raises(ValueError, match="^" + reason) as excinfo:
        flashcard_payload("cat?", back)
    assert str(excinfo.value).startswith(reason)
