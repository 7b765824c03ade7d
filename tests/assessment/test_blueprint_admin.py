"""The blueprint admin: authors edit sections through the service (audited), a section from
another course is refused on the form, and the change page shows how learners did."""

import pytest
from django.test import Client

from apps.accounts.roles import AUTHORS
from apps.assessment.models import MockTestBlueprint
from apps.assessment.services import mock_test_start, mock_test_submit
from apps.core.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.curriculum.factories import UnitFactory

from .factories import blueprint_for, exam_course

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/assessment/mocktestblueprint/add/"


def form_data(course, sections, *, initial=0, **fields) -> dict:
    data = {
        "course": str(course.pk),
        "time_limit_minutes": "57",
        "pass_mark_percent": "86",
        "sections-TOTAL_FORMS": str(len(sections)),
        "sections-INITIAL_FORMS": str(initial),
        "sections-MIN_NUM_FORMS": "0",
        "sections-MAX_NUM_FORMS": "1000",
        **fields,
    }
    for number, (unit, count) in enumerate(sections):
        data |= {
            f"sections-{number}-position": str(number),
            f"sections-{number}-unit": str(unit.pk),
            f"sections-{number}-concept": "",
            f"sections-{number}-item_count": str(count),
        }
    return data


@pytest.fixture
def author_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, roles=[AUTHORS]))
    return client


def test_an_author_creates_a_blueprint_with_its_sections_through_the_audited_service(
    author_client,
):
    exam = exam_course({"Alertness": 2, "Hazards": 3})
    sections = [(exam.units["Alertness"], 2), (exam.units["Hazards"], 3)]

    response = author_client.post(ADD_URL, form_data(exam.course, sections))

    assert response.status_code == 302, response.content.decode()[:2000]
    blueprint = MockTestBlueprint.objects.get(course=exam.course)
    assert (blueprint.time_limit_minutes, blueprint.pass_mark_percent) == (57, 86)
    assert [(s.unit.title, s.item_count) for s in blueprint.sections.all()] == [
        ("Alertness", 2),
        ("Hazards", 3),
    ]
    event = AuditEvent.objects.get(target_id=str(blueprint.pk))
    assert event.action == "blueprint_created" and event.source == "admin"


def test_a_unit_of_another_course_is_refused_on_the_form_and_nothing_is_saved(author_client):
    exam = exam_course({"Alertness": 2})
    elsewhere = UnitFactory(title="Elsewhere")

    response = author_client.post(ADD_URL, form_data(exam.course, [(elsewhere, 1)]))

    assert response.status_code == 200
    assert "Not part of this blueprint&#x27;s course." in response.content.decode()
    assert not MockTestBlueprint.objects.exists()


def test_the_change_page_shows_the_pass_rate_and_item_statistics(author_client):
    exam = exam_course({"Alertness": 2})
    blueprint = blueprint_for(exam, {"Alertness": 2}, pass_mark=50)
    for _ in range(2):  # two learners, both marked with nothing answered: both fail
        mock_test_submit(test=mock_test_start(learner=UserFactory(), course=exam.course))

    page = author_client.get(f"/admin/assessment/mocktestblueprint/{blueprint.pk}/change/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "0% (0 of 2 tests passed)" in html
    assert html.count("<td>Alertness ") == 2  # each atom of the pool, drawn twice
    assert "<td>2</td><td>2</td><td>0%</td>" in html
