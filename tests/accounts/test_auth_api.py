import pytest
from django.urls import reverse

from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
ME_URL = "/api/v1/me/"


def test_jwt_obtain_use_and_refresh(api_client):
    user = UserFactory(email="ada@example.com", display_name="Ada")

    obtained = api_client.post(
        TOKEN_URL, {"email": "ADA@example.com", "password": PASSWORD}, format="json"
    )
    assert obtained.status_code == 200, obtained.content
    tokens = obtained.json()

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = api_client.get(ME_URL)
    assert me.status_code == 200
    assert me.json()["id"] == str(user.id)
    assert me.json()["email"] == "ada@example.com"
    assert me.json()["roles"] == []

    refreshed = api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    assert api_client.get(ME_URL).json()["display_name"] == "Ada"


def test_wrong_password_gets_401_envelope(api_client):
    UserFactory(email="ada@example.com")

    response = api_client.post(
        TOKEN_URL, {"email": "ada@example.com", "password": "nope"}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"


def test_garbage_tokens_are_rejected(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert api_client.get(ME_URL).json()["error"]["code"] == "token_not_valid"

    response = api_client.post(REFRESH_URL, {"refresh": "not-a-jwt"}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_me_shows_roles_and_updates_profile(api_client):
    user = UserFactory(roles=["Reviewers"])
    api_client.force_authenticate(user)

    assert api_client.get(ME_URL).json()["roles"] == ["Reviewers"]
    updated = api_client.patch(
        ME_URL, {"timezone": "Asia/Tokyo", "display_name": "R"}, format="json"
    )

    assert updated.status_code == 200
    assert updated.json()["timezone"] == "Asia/Tokyo"
    user.refresh_from_db()
    assert user.timezone == "Asia/Tokyo"


def test_me_rejects_bad_timezone_with_field_error(api_client):
    user = UserFactory(timezone="Europe/London")
    api_client.force_authenticate(user)

    response = api_client.patch(ME_URL, {"timezone": "Moon/Base"}, format="json")

    assert response.status_code == 400
    assert "timezone" in response.json()["error"]["details"]


def test_account_locks_after_repeated_failures_even_for_right_password(api_client, settings):
    UserFactory(email="ada@example.com")
    other = UserFactory(email="bob@example.com")

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        failed = api_client.post(
            TOKEN_URL, {"email": "Ada@example.com", "password": "wrong"}, format="json"
        )
        assert failed.status_code == 401
    # The failure that reaches the limit is the one that locks.
    last = api_client.post(
        TOKEN_URL, {"email": "ADA@example.com", "password": "wrong"}, format="json"
    )
    assert last.status_code == 429

    locked = api_client.post(
        TOKEN_URL, {"email": "ada@example.com", "password": PASSWORD}, format="json"
    )
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "account_locked"
    assert locked.json()["error"]["details"]["retry_after_s"] > 0

    # Another account from the same client is unaffected.
    fine = api_client.post(TOKEN_URL, {"email": other.email, "password": PASSWORD}, format="json")
    assert fine.status_code == 200


def test_admin_login_locks_out_too(client, settings):
    UserFactory(email="staff@example.com", is_staff=True)
    login_url = reverse("admin:login")

    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(login_url, {"username": "staff@example.com", "password": "wrong"})
    response = client.post(login_url, {"username": "staff@example.com", "password": PASSWORD})

    assert response.status_code == 429
    assert b"temporarily locked" in response.content
