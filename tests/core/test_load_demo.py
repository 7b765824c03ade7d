import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from apps.accounts.models import User
from tests.legacy import LEGACY_SYNC_INSTALLED

pytestmark = pytest.mark.django_db(databases=["default", "legacy"])

EXPECTED_ROLES = {
    "admin@demo.local": [],
    "author@demo.local": ["Authors"],
    "reviewer@demo.local": ["Reviewers"],
    "publisher@demo.local": ["Publishers"],
    "staff@demo.local": ["Migration staff"],
    "learner@demo.local": [],
}


def test_load_demo_creates_one_user_per_role_and_is_idempotent(capsys):
    call_command("load_demo")
    call_command("load_demo")

    assert User.objects.filter(origin="v2").count() == len(EXPECTED_ROLES)
    for email, roles in EXPECTED_ROLES.items():
        user = User.objects.get(email=email)
        assert sorted(user.groups.values_list("name", flat=True)) == roles
        request = RequestFactory().post("/admin/login/")
        assert authenticate(request, email=email, password="demo12345") == user
    assert User.objects.get(email="admin@demo.local").is_superuser
    assert not User.objects.get(email="learner@demo.local").is_staff
    out = capsys.readouterr().out
    assert "learner@demo.local" in out
    # the v1 part runs while the migration app is installed, and only then
    assert ("Demo v1 platform" in out) == LEGACY_SYNC_INSTALLED


def test_role_groups_exist_from_migrations():
    from django.contrib.auth.models import Group

    names = set(Group.objects.values_list("name", flat=True))
    assert {"Authors", "Reviewers", "Publishers", "Migration staff"} <= names
    staff = Group.objects.get(name="Migration staff")
    assert staff.permissions.filter(codename="view_user").exists()


@pytest.mark.legacy_sync
def test_load_demo_migrates_a_language_course_from_its_v1_database(capsys, settings, tmp_path):
    from apps.curriculum.models import Course
    from apps.legacy_sync.models import QuarantinedRow
    from apps.legacy_sync.status import conservation_report

    settings.LEGACY_JSON_DIR = tmp_path
    from apps.legacy_sync.v1.schema import legacy_schema_create

    legacy_schema_create(replace=True)  # an empty v1 database: the demo generates its data

    call_command("load_demo")
    migrated = set(Course.objects.filter(origin="legacy").values_list("title", flat=True))
    held = QuarantinedRow.objects.count()
    call_command("load_demo")  # idempotent: nothing new the second time

    assert migrated == {"Spanish", "German"}
    assert User.objects.filter(origin="legacy").count() > 20
    assert 0 < held == QuarantinedRow.objects.count()  # staff have rows to fix
    assert all(row["holds"] for row in conservation_report(json_dir=tmp_path))
    assert "Demo v1 platform" in capsys.readouterr().out


def test_the_demo_learner_sees_earned_and_next_badges(
    django_capture_on_commit_callbacks, api_client
):
    from apps.achievements.demo import DEMO_BADGES
    from apps.achievements.models import Badge

    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo")  # idempotent: each badge made once

    assert Badge.objects.count() == len(DEMO_BADGES)
    assert all(badge.icon.read(8) == b"\x89PNG\r\n\x1a\n" for badge in Badge.objects.all())
    api_client.force_authenticate(User.objects.get(email="learner@demo.local"))
    shown = api_client.get("/api/v1/me/achievements/").json()
    earned = {row["badge"]["name"] for row in shown["earned"]}
    assert "First steps" in earned  # the demo history's XP is past 100
    assert len(earned) + len(shown["next"]) == len(DEMO_BADGES)
