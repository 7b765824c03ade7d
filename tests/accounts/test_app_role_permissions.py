"""Each app's own role grants (AppConfig.role_permissions, merged by all_role_permissions):
Analysts read leagues and their standings, Migration staff read learners' study tasks, both
read-only; the other staff roles still get a 403."""

import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.utils import timezone

from apps.accounts.roles import (
    AUTHORS,
    MIGRATION_STAFF,
    all_role_permissions,
    role_permissions_sync,
)
from apps.analytics.permissions import ANALYSTS
from apps.leagues.models import LeagueMembership
from apps.leagues.services import leagues_place
from apps.learning.models import StudyTask
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _roles():
    role_permissions_sync(django_apps)  # as every migrate does (accounts' post_migrate)


def browser_of(role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, roles=[role]))
    return client


def test_the_grants_come_from_the_apps_own_configs():
    merged = all_role_permissions()
    assert {"leagues.view_league", "leagues.view_leaguemembership"} <= set(merged[ANALYSTS])
    assert "learning.view_studytask" in merged[MIGRATION_STAFF]


def test_analysts_read_leagues_and_standings_read_only():
    # given a learner who opted in, placed in this week's league
    ada = UserFactory(display_name="Ada", leagues_opt_in=True)
    leagues_place(learner_ids=[ada.pk])
    league = LeagueMembership.objects.get(learner=ada).league
    analyst = browser_of(ANALYSTS)

    # when an Analyst opens the league and the standings
    page = analyst.get(f"/admin/leagues/league/{league.pk}/change/")
    listing = analyst.get("/admin/leagues/leaguemembership/", {"q": ada.email})

    # then they see them, and can change nothing
    assert page.status_code == 200 and ada.email in page.content.decode()
    assert listing.status_code == 200 and ada.email in listing.content.decode()
    assert analyst.get("/admin/leagues/league/add/").status_code == 403
    assert b'name="_save"' not in page.content
    assert browser_of(AUTHORS).get("/admin/leagues/league/").status_code == 403


def test_migration_staff_read_study_tasks_read_only():
    task = StudyTask.objects.create(learner=UserFactory(), title="Revise the signs",
                                    due_at=timezone.now())  # fmt: skip
    staff = browser_of(MIGRATION_STAFF)

    listing = staff.get("/admin/learning/studytask/")
    page = staff.get(f"/admin/learning/studytask/{task.pk}/change/")

    assert listing.status_code == 200 and "Revise the signs" in listing.content.decode()
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert (
        staff.post(f"/admin/learning/studytask/{task.pk}/change/", {"title": "x"}).status_code
        == 403
    )
    assert StudyTask.objects.get(pk=task.pk).title == "Revise the signs"
    assert browser_of(AUTHORS).get("/admin/learning/studytask/").status_code == 403
