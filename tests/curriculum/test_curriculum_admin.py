import pytest
from django.urls import reverse

from apps.curriculum.models import Concept, ConceptPrerequisite, Course, Misconception, Unit
from apps.curriculum.services import concept_prerequisites_set
from tests.accounts.factories import UserFactory
from tests.curriculum.factories import (
    ConceptFactory,
    CourseFactory,
    MisconceptionFactory,
    UnitFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def author_client(client):
    client.force_login(UserFactory(is_staff=True, roles=["Authors"]))
    return client


@pytest.mark.parametrize(
    ("model", "factory"),
    [
        (Course, CourseFactory),
        (Unit, UnitFactory),
        (Concept, ConceptFactory),
        (Misconception, MisconceptionFactory),
    ],
)
def test_changelist_add_and_change_pages_render_for_an_author(author_client, model, factory):
    obj = factory()
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"

    assert author_client.get(reverse(f"{name}_changelist")).status_code == 200
    assert author_client.get(reverse(f"{name}_add")).status_code == 200
    assert author_client.get(reverse(f"{name}_change", args=[obj.pk])).status_code == 200


def _concept_post(concept, prerequisites) -> dict:
    data = {
        "course": str(concept.course_id),
        "text": concept.text,
        "translation": "",
        "description": "",
        "difficulty": "3",
        "prerequisite_links-TOTAL_FORMS": str(len(prerequisites)),
        "prerequisite_links-INITIAL_FORMS": "0",
        "prerequisite_links-MIN_NUM_FORMS": "0",
        "prerequisite_links-MAX_NUM_FORMS": "1000",
        "misconceptions-TOTAL_FORMS": "0",
        "misconceptions-INITIAL_FORMS": "0",
        "misconceptions-MIN_NUM_FORMS": "0",
        "misconceptions-MAX_NUM_FORMS": "1000",
    }
    for i, prerequisite in enumerate(prerequisites):
        data[f"prerequisite_links-{i}-prerequisite"] = str(prerequisite.pk)
    return data


def test_admin_rejects_a_prerequisite_cycle_and_names_it(author_client):
    course = CourseFactory()
    first = ConceptFactory(course=course, text="Letters")
    second = ConceptFactory(course=course, text="Words")
    concept_prerequisites_set(concept=second, prerequisites=[first])

    response = author_client.post(
        reverse("admin:curriculum_concept_change", args=[first.pk]), _concept_post(first, [second])
    )

    assert response.status_code == 200
    assert "Letters → Words → Letters" in response.content.decode() or (
        "Words → Letters → Words" in response.content.decode()
    )
    assert ConceptPrerequisite.objects.count() == 1


def test_admin_saves_valid_prerequisites(author_client):
    course = CourseFactory()
    first = ConceptFactory(course=course, text="Letters")
    second = ConceptFactory(course=course, text="Words")

    response = author_client.post(
        reverse("admin:curriculum_concept_change", args=[second.pk]), _concept_post(second, [first])
    )

    assert response.status_code == 302
    assert list(second.prerequisites.all()) == [first]


def test_course_page_reports_orphan_concepts(author_client):
    course = CourseFactory()
    ConceptFactory(course=course, text="Forgotten concept")
    UnitFactory(course=course)

    page = author_client.get(reverse("admin:curriculum_course_change", args=[course.pk]))

    assert b"Orphans" in page.content
    assert b"Forgotten concept" in page.content


def test_learners_cannot_open_the_curriculum_admin(client):
    client.force_login(UserFactory())

    response = client.get(reverse("admin:curriculum_course_changelist"))

    assert response.status_code == 302


def test_admin_prerequisites_are_saved_by_the_service(client, monkeypatch):
    # given a concept with one prerequisite, edited in the admin to have another instead (by
    # a superuser: removing a prerequisite needs the delete permission)
    from apps.curriculum import admin as curriculum_admin

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    calls = []
    real = curriculum_admin.concept_prerequisites_set

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(curriculum_admin, "concept_prerequisites_set", spy)
    course = CourseFactory()
    letters, sounds, words = (ConceptFactory(course=course, text=t)
                              for t in ("Letters", "Sounds", "Words"))  # fmt: skip
    concept_prerequisites_set(concept=words, prerequisites=[letters])
    data = _concept_post(words, [letters, sounds]) | {
        "prerequisite_links-INITIAL_FORMS": "1",
        "prerequisite_links-0-id": str(ConceptPrerequisite.objects.get(concept=words).pk),
        "prerequisite_links-0-concept": str(words.pk),
        "prerequisite_links-0-DELETE": "on",
        "prerequisite_links-1-concept": str(words.pk),
    }

    response = client.post(reverse("admin:curriculum_concept_change", args=[words.pk]), data)

    # then the service made the change (under its lock), with the deleted one left out
    assert response.status_code == 302, response.content[:500]
    assert [call["concept"] for call in calls] == [words]
    assert list(words.prerequisites.all()) == [sounds]


def _prerequisite_audit(concept) -> list[tuple]:
    from apps.core.models import AuditEvent

    return [
        (e.action, e.source, e.actor_id, e.details)
        for e in AuditEvent.objects.filter(target_id=str(concept.pk)).order_by("created_at")
    ]


def test_prerequisites_from_the_admin_are_audited_as_the_service_audits_them(client):
    # given two concepts with the same change to make: one through the admin's inline, the
    # other through the service
    editor = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(editor)
    course = CourseFactory()
    letters = ConceptFactory(course=course, text="Letters")
    by_admin, by_service = (ConceptFactory(course=course, text=t) for t in ("Words", "Spelling"))

    response = client.post(
        reverse("admin:curriculum_concept_change", args=[by_admin.pk]),
        _concept_post(by_admin, [letters]),
    )
    concept_prerequisites_set(concept=by_service, prerequisites=[letters], by=editor,
                              source="admin")  # fmt: skip

    # then both wrote the same audit row, naming the door and the editor
    assert response.status_code == 302, response.content[:500]
    expected = [("prerequisites_set", "admin", editor.pk,
                 {"added": [str(letters.pk)], "removed": []})]  # fmt: skip
    assert _prerequisite_audit(by_admin) == _prerequisite_audit(by_service) == expected
    # and saving the same prerequisites again records nothing
    client.post(reverse("admin:curriculum_concept_change", args=[by_admin.pk]),
                _concept_post(by_admin, []) | _existing_links(by_admin))  # fmt: skip
    assert _prerequisite_audit(by_admin) == expected


def _existing_links(concept) -> dict:
    links = list(ConceptPrerequisite.objects.filter(concept=concept))
    data = {"prerequisite_links-TOTAL_FORMS": str(len(links)),
            "prerequisite_links-INITIAL_FORMS": str(len(links))}  # fmt: skip
    for i, link in enumerate(links):
        data |= {f"prerequisite_links-{i}-id": str(link.pk),
                 f"prerequisite_links-{i}-concept": str(concept.pk),
                 f"prerequisite_links-{i}-prerequisite": str(link.prerequisite_id)}  # fmt: skip
    return data
