import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.content.atom_types import AtomValidationError, ResponseValidationError
from apps.content.models import LearningAtom
from apps.content.services import atom_answer_check, atom_create, atom_update
from tests.content.factories import make_atom
from tests.curriculum.factories import MisconceptionFactory

pytestmark = pytest.mark.django_db


def test_create_validates_the_payload_with_field_paths():
    with pytest.raises(AtomValidationError) as excinfo:
        atom_create(
            by=None,
            title="Broken",
            atom_type="mcq",
            content={"prompt": "", "colour": "red"},
            grading_logic={},
            options=[{"text": "only one", "is_correct": True}],
        )

    errors = excinfo.value.errors
    assert "content.prompt" in errors
    assert "content.colour" in errors
    assert not LearningAtom.objects.exists()


def test_options_consistency_is_checked():
    with pytest.raises(AtomValidationError) as excinfo:
        make_atom(options=[{"text": "a", "is_correct": True}, {"text": "b", "is_correct": True}])

    assert "Exactly one option" in excinfo.value.errors["options"][0]


def test_unknown_type_and_unknown_misconception_are_rejected():
    with pytest.raises(AtomValidationError) as excinfo:
        make_atom("hologram")
    assert "Known types" in excinfo.value.errors["atom_type"][0]

    import uuid

    with pytest.raises(AtomValidationError) as excinfo:
        make_atom(
            options=[
                {"text": "a", "is_correct": True},
                {"text": "b", "misconception": uuid.uuid4()},
            ]
        )
    assert "misconceptions" in excinfo.value.errors


def test_metadata_ranges_are_validated_in_services_and_database():
    with pytest.raises(ValidationError) as excinfo:
        make_atom(element_interactivity=1.5)
    assert "element_interactivity" in excinfo.value.message_dict

    atom = make_atom()
    for field, value in [
        ("engagement_mode", "bored"),
        ("knowledge_dimension", "vibes"),
        ("element_interactivity", -0.1),
        ("irt_c", 0.9),
        ("difficulty", 6),
        ("status", "lost"),
    ]:
        with pytest.raises(IntegrityError), transaction.atomic():
            LearningAtom.objects.filter(pk=atom.pk).update(**{field: value})


def test_search_text_is_kept_from_content_and_options():
    atom = make_atom(content={"prompt": "Which protocol retransmits?"})

    assert "retransmits" in atom.search_text
    atom_update(atom=atom, by=None, content={"prompt": "Which layer routes packets?"})
    atom.refresh_from_db()
    assert "routes" in atom.search_text
    assert "TCP" in atom.search_text  # option text


def test_answer_check_grades_with_misconception_and_rejects_malformed_response():
    misconception = MisconceptionFactory()
    atom = make_atom(
        options=[
            {"text": "UDP", "misconception": misconception, "feedback": "No ordering."},
            {"text": "TCP", "is_correct": True},
        ]
    )

    wrong = atom_answer_check(atom=atom, response={"choice": 0})
    assert (wrong.correct, wrong.misconception_id) == (False, misconception.pk)
    assert atom_answer_check(atom=atom, response={"choice": 1}).correct

    with pytest.raises(ResponseValidationError) as excinfo:
        atom_answer_check(atom=atom, response={"choice": 7})
    assert "response.choice" in excinfo.value.errors
