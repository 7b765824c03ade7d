"""What the mock test tests share: a course whose units hold published mcqs, its blueprint
(saved through the service), and the learner client's paths."""

import uuid
from dataclasses import dataclass, field

from rest_framework.test import APIClient

from apps.assessment.models import MockTestBlueprint
from apps.assessment.services import SectionInput, mock_test_blueprint_save
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory, UnitFactory

MOCK_TESTS_URL = "/api/v1/mock-tests/"
RIGHT = {"choice": 1}  # the example mcq's right option (TCP)
WRONG = {"choice": 0}  # UDP


def detail_url(test_id) -> str:
    return f"{MOCK_TESTS_URL}{test_id}/"


def answers_url(test_id) -> str:
    return f"{MOCK_TESTS_URL}{test_id}/answers/"


def submit_url(test_id) -> str:
    return f"{MOCK_TESTS_URL}{test_id}/submit/"


@dataclass
class Exam:
    """A published course: per unit title, the unit, its concept and its published atoms."""

    course: object
    units: dict = field(default_factory=dict)
    concepts: dict = field(default_factory=dict)
    atoms: dict = field(default_factory=dict)

    def unit_of(self, atom_id) -> str:
        return next(title for title, atoms in self.atoms.items() if atom_id in atoms)


def exam_course(pool_sizes: dict[str, int]) -> Exam:
    """A course with one unit (holding one concept) per entry, and that many published mcqs."""
    exam = Exam(course=CourseFactory(title="Driving theory"))
    for title, size in pool_sizes.items():
        unit = UnitFactory(course=exam.course, title=title)
        concept = ConceptFactory(course=exam.course, units=[unit], text=f"{title} concept")
        exam.units[title], exam.concepts[title] = unit, concept
        exam.atoms[title] = {
            str(make_atom("mcq", concept=concept, title=f"{title} {n}").pk) for n in range(size)
        }
    return exam


def blueprint_for(
    exam: Exam, counts: dict[str, int], *, minutes: int = 57, pass_mark: int = 60
) -> MockTestBlueprint:
    return mock_test_blueprint_save(
        blueprint=MockTestBlueprint(
            course=exam.course, time_limit_minutes=minutes, pass_mark_percent=pass_mark
        ),
        sections=[SectionInput(count, unit=exam.units[title]) for title, count in counts.items()],
        by=None,
        source="test",
    )


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def answer_body(atom_id, response, client_attempt_id=None) -> dict:
    return {
        "atom": str(atom_id),
        "response": response,
        "client_attempt_id": str(client_attempt_id or uuid.uuid4()),
    }


def keys_anywhere(node) -> set[str]:
    """Every key of every object in a JSON body, however deep."""
    if isinstance(node, dict):
        return set(node) | {key for value in node.values() for key in keys_anywhere(value)}
    if isinstance(node, list):
        return {key for value in node for key in keys_anywhere(value)}
    return set()
