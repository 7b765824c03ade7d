import pytest

from apps.content.services import ConceptWeightInput, atom_create
from apps.curriculum.selectors import curriculum_report
from apps.curriculum.services import concept_prerequisites_set
from tests.curriculum.factories import ConceptFactory, CourseFactory, UnitFactory

pytestmark = pytest.mark.django_db


def test_report_names_orphans_unreachable_concepts_and_concepts_without_atoms():
    course = CourseFactory()
    unit = UnitFactory(course=course)
    taught = ConceptFactory(course=course, text="Taught", units=[unit])
    orphan = ConceptFactory(course=course, text="Orphan")
    blocked = ConceptFactory(course=course, text="Blocked", units=[unit])
    concept_prerequisites_set(concept=blocked, prerequisites=[orphan])
    atom_create(
        by=None,
        title="Practice",
        atom_type="flashcard",
        content={"front": "Q", "back": "A"},
        grading_logic={},
        concept_weights=[ConceptWeightInput(taught)],
    )

    report = curriculum_report(course=course)

    assert report.orphans == [orphan]
    assert report.unreachable == [blocked]
    assert {c.text for c in report.without_atoms} == {"Orphan", "Blocked"}
    assert not report.is_clean
