import pytest

from apps.accounts.models import User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    admin = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_admin_lists_users_with_their_roles(superuser_client):
    UserFactory(email="rita@example.com", roles=["Reviewers"])

    response = superuser_client.get("/admin/accounts/user/")

    assert response.status_code == 200
    assert b"rita@example.com" in response.content
    assert b"Reviewers" in response.content


def test_admin_creates_user_with_normalised_email(superuser_client):
    response = superuser_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "New.Person@Example.COM",
            "display_name": "New",
            "timezone": "Europe/Paris",
            "password1": "a-long-enough-password",
            "password2": "a-long-enough-password",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(email="new.person@example.com").timezone == "Europe/Paris"


def test_admin_rejects_bad_timezone_and_duplicate_email(superuser_client):
    UserFactory(email="taken@example.com")

    response = superuser_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "TAKEN@example.com",
            "timezone": "Not/AZone",
            "password1": "a-long-enough-password",
            "password2": "a-long-enough-password",
            "usable_password": "true",
        },
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "timezone" in errors
    assert "already exists" in str(errors)
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


def test_learner_cannot_reach_the_admin(client):
    client.force_login(UserFactory())

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
