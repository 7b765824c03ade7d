import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from apps.accounts.models import User

pytestmark = pytest.mark.django_db

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

    assert User.objects.count() == len(EXPECTED_ROLES)
    for email, roles in EXPECTED_ROLES.items():
        user = User.objects.get(email=email)
        assert sorted(user.groups.values_list("name", flat=True)) == roles
        request = RequestFactory().post("/admin/login/")
        assert authenticate(request, email=email, password="demo12345") == user
    assert User.objects.get(email="admin@demo.local").is_superuser
    assert not User.objects.get(email="learner@demo.local").is_staff
    assert "learner@demo.local" in capsys.readouterr().out


def test_role_groups_exist_from_migrations():
    from django.contrib.auth.models import Group

    names = set(Group.objects.values_list("name", flat=True))
    assert {"Authors", "Reviewers", "Publishers", "Migration staff"} <= names
    staff = Group.objects.get(name="Migration staff")
    assert staff.permissions.filter(codename="view_user").exists()
