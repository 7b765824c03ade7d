"""Refresh tokens rotate and work once; every token issued before a password change, a
deactivation or a lockout is refused, access and refresh alike."""

import pytest
from django.test import Client

from apps.accounts.services import user_tokens_revoke
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
REVOKE_URL = "/api/v1/auth/token/revoke/"
ME_URL = "/api/v1/me/"


def login(api_client, user, password=PASSWORD) -> dict:
    response = api_client.post(
        TOKEN_URL, {"email": user.email, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def me_status(api_client, access: str) -> int:
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    status = api_client.get(ME_URL).status_code
    api_client.credentials()
    return status


def refresh(api_client, token: str):
    return api_client.post(REFRESH_URL, {"refresh": token}, format="json")


def test_a_refresh_rotates_the_token_and_the_old_one_works_once(api_client):
    tokens = login(api_client, UserFactory())

    first = refresh(api_client, tokens["refresh"])
    replay = refresh(api_client, tokens["refresh"])

    assert first.status_code == 200
    assert set(first.json()) == {"access", "refresh"}
    assert first.json()["refresh"] != tokens["refresh"]
    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "token_not_valid"
    assert refresh(api_client, first.json()["refresh"]).status_code == 200


def test_a_password_change_refuses_every_older_token(api_client):
    user = UserFactory()
    tokens = login(api_client, user)

    user.set_password("a-new-long-password-42")
    user.save()

    assert me_status(api_client, tokens["access"]) == 401
    stale = refresh(api_client, tokens["refresh"])
    assert stale.status_code == 401
    assert stale.json()["error"]["code"] == "token_not_valid"
    # and a login with the new password works at once
    fresh = login(api_client, user, "a-new-long-password-42")
    assert me_status(api_client, fresh["access"]) == 200
    assert refresh(api_client, fresh["refresh"]).status_code == 200


def test_a_password_changed_in_the_admin_refuses_older_tokens(api_client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    learner = UserFactory()
    tokens = login(api_client, learner)
    browser = Client()
    browser.force_login(admin)

    response = browser.post(
        f"/admin/accounts/user/{learner.pk}/password/",
        {"password1": "another-long-password-7", "password2": "another-long-password-7",
         "usable_password": "true"},
    )  # fmt: skip

    assert response.status_code == 302, response.content[:500]
    assert me_status(api_client, tokens["access"]) == 401
    assert refresh(api_client, tokens["refresh"]).status_code == 401


def test_deactivation_refuses_older_tokens_even_after_reactivation(api_client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    learner = UserFactory()
    tokens = login(api_client, learner)
    browser = Client()
    browser.force_login(admin)
    form = {"email": learner.email, "display_name": "", "timezone": "UTC",
            "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}  # fmt: skip

    deactivated = browser.post(f"/admin/accounts/user/{learner.pk}/change/", form)
    assert deactivated.status_code == 302, deactivated.content[:2000]
    learner.refresh_from_db()
    assert not learner.is_active
    assert me_status(api_client, tokens["access"]) == 401

    browser.post(f"/admin/accounts/user/{learner.pk}/change/", form | {"is_active": "on"})
    learner.refresh_from_db()
    assert learner.is_active
    assert me_status(api_client, tokens["access"]) == 401
    assert refresh(api_client, tokens["refresh"]).status_code == 401


def test_a_lockout_refuses_tokens_issued_before_it(api_client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = UserFactory()
    tokens = login(api_client, user)

    for _ in range(3):
        api_client.post(TOKEN_URL, {"email": user.email, "password": "wrong"}, format="json")

    assert me_status(api_client, tokens["access"]) == 401
    assert refresh(api_client, tokens["refresh"]).status_code == 401


def test_revoking_a_refresh_token_logs_out(api_client):
    tokens = login(api_client, UserFactory())

    revoked = api_client.post(REVOKE_URL, {"refresh": tokens["refresh"]}, format="json")

    assert revoked.status_code == 200
    assert refresh(api_client, tokens["refresh"]).status_code == 401


def test_the_revoke_service_cuts_off_every_token_issued_so_far(api_client):
    user = UserFactory()
    tokens = login(api_client, user)

    user_tokens_revoke(user=user)

    assert me_status(api_client, tokens["access"]) == 401
    assert me_status(api_client, login(api_client, user)["access"]) == 200
