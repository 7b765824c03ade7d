import json
import uuid

import pytest

from apps.content.models import AtomStatus
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory, UnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    course = CourseFactory(title="Networks")
    unit = UnitFactory(course=course, title="Transport")
    concept = ConceptFactory(course=course, text="TCP", units=[unit])
    make_atom("mcq", concept=concept, title="Ordering protocol")
    make_atom("mcq", concept=concept, title="Draft one", status=AtomStatus.DRAFT)
    return course


def test_courses_lists_only_published_courses_with_counts(learner_client, course):
    CourseFactory(title="Hidden", is_published=False)

    body = learner_client.get("/api/v1/courses/").json()

    assert [c["title"] for c in body["results"]] == ["Networks"]
    listed = body["results"][0]
    assert (listed["unit_count"], listed["concept_count"], listed["published_atom_count"]) == (
        1,
        1,
        1,
    )


def test_course_detail_has_units_and_concepts(learner_client, course):
    body = learner_client.get(f"/api/v1/courses/{course.pk}/").json()

    assert body["units"][0]["title"] == "Transport"
    assert body["concepts"][0]["text"] == "TCP"
    assert body["units"][0]["concepts"] == [body["concepts"][0]["id"]]


def test_atoms_list_shows_published_atoms_without_answers(learner_client, course):
    body = learner_client.get(f"/api/v1/atoms/?course={course.pk}").json()

    assert [a["title"] for a in body["results"]] == ["Ordering protocol"]
    atom = body["results"][0]
    assert atom["atom_type"] == "mcq"
    assert [o["text"] for o in atom["options"]] == ["UDP", "TCP", "ICMP"]
    raw = json.dumps(body)
    assert "is_correct" not in raw and "feedback" not in raw and "misconception" not in raw


def test_atoms_filter_by_concept_and_type(learner_client, course):
    concept = course.concepts.get()
    other = ConceptFactory(course=course)
    make_atom("mcq", concept=other, title="Other concept")

    by_concept = learner_client.get(f"/api/v1/atoms/?concept={concept.pk}").json()
    by_type = learner_client.get("/api/v1/atoms/?type=flashcard").json()

    assert [a["title"] for a in by_concept["results"]] == ["Ordering protocol"]
    assert by_type["results"] == []


def test_bad_filters_get_a_400_naming_the_parameter(learner_client):
    response = learner_client.get("/api/v1/atoms/?course=not-a-uuid&type=hologram")

    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert set(details) == {"course", "type"}


def test_unpublished_or_unknown_atom_is_404(learner_client, course):
    draft = course.concepts.get().atoms.get(title="Draft one")

    assert learner_client.get(f"/api/v1/atoms/{draft.pk}/").status_code == 404
    assert learner_client.get(f"/api/v1/atoms/{uuid.uuid4()}/").status_code == 404


def test_atom_detail_and_list_need_authentication(api_client, course):
    assert api_client.get("/api/v1/atoms/").status_code == 401
    assert api_client.get("/api/v1/courses/").status_code == 401


def test_atom_list_query_count_does_not_grow_with_atoms(
    learner_client, course, django_assert_max_num_queries
):
    concept = course.concepts.get()
    for n in range(10):
        make_atom("mcq", concept=concept, title=f"Extra {n}")

    with django_assert_max_num_queries(8):
        response = learner_client.get(f"/api/v1/atoms/?course={course.pk}")

    assert response.json()["count"] == 11
