"""Browser journey: an author edits a course's mock test blueprint in the admin (a stricter
pass mark, a longer time limit, one more unit) and reads how learners did on it.

A learner has already sat one test (set up through the services). Each step saves
docs/screenshots/journey4-NN-*.png.
"""

import pytest

from apps.accounts.roles import AUTHORS
from apps.assessment.models import MockTestBlueprint
from apps.assessment.services import mock_test_start, mock_test_submit
from tests.accounts.factories import UserFactory
from tests.assessment.factories import blueprint_for, exam_course

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _assessment_roles(_roles):
    """The role groups were flushed and re-made by ``_roles``; grant the blueprint rights."""
    from django.apps import apps

    from apps.accounts.roles import role_permissions_sync
    from apps.assessment.permissions import ASSESSMENT_ROLE_PERMISSIONS

    role_permissions_sync(apps, ASSESSMENT_ROLE_PERMISSIONS)


def test_an_author_edits_a_blueprint_and_reads_its_statistics(
    live_server, admin_login, browser_page, screenshot
):
    # given a course with a 2-item blueprint that one learner has sat (and failed)
    exam = exam_course({"Alertness": 3, "Hazards": 3})
    exam.course.title = "Driving theory (journey 4)"
    exam.course.save()
    blueprint = blueprint_for(exam, {"Alertness": 2}, minutes=20, pass_mark=50)
    mock_test_submit(test=mock_test_start(learner=UserFactory(), course=exam.course))
    author = UserFactory(is_staff=True, roles=[AUTHORS], email="ada.author@example.com")
    page = browser_page

    # the author finds the blueprint in the admin and reads how learners did
    admin_login(page, author)
    page.goto(f"{live_server.url}/admin/assessment/mocktestblueprint/")
    page.get_by_role("link", name="Driving theory (journey 4)").click()
    page.wait_for_url("**/change/")
    statistics = page.locator(".field-pass_rate").inner_text()
    assert "0% (0 of 1 tests passed)" in statistics
    assert page.locator("table.mock-test-item-statistics tbody tr").count() == 2
    screenshot(page, "journey4-01-blueprint-with-statistics")

    # when they make it stricter and longer, and add two Hazards items
    page.locator("#id_pass_mark_percent").fill("86")
    page.locator("#id_time_limit_minutes").fill("57")
    page.locator("#id_sections-1-position").fill("1")
    page.locator("#id_sections-1-unit").select_option(label="Driving theory (journey 4): Hazards")
    page.locator("#id_sections-1-item_count").fill("2")
    with page.expect_navigation():
        page.get_by_role("button", name="Save and continue editing").click()

    # then the admin says so, and the blueprint has both sections
    assert "was changed successfully" in page.locator("ul.messagelist").inner_text()
    screenshot(page, "journey4-02-blueprint-saved")
    blueprint = MockTestBlueprint.objects.get(pk=blueprint.pk)
    assert (blueprint.pass_mark_percent, blueprint.time_limit_minutes) == (86, 57)
    assert [(s.unit.title, s.item_count) for s in blueprint.sections.all()] == [
        ("Alertness", 2),
        ("Hazards", 2),
    ]
