"""The client's address comes from REMOTE_ADDR, or from X-Forwarded-For only as far as
NUM_PROXIES trusted proxies vouch for it; logins are limited per address besides the
per-account lockout."""

import pytest
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"


def login_attempt(client: APIClient, email: str, forwarded_for: str, remote: str = "10.0.0.1"):
    return client.post(
        TOKEN_URL, {"email": email, "password": "wrong-password"}, format="json",
        HTTP_X_FORWARDED_FOR=forwarded_for, REMOTE_ADDR=remote,
    )  # fmt: skip


def test_a_forged_forwarded_for_does_not_dodge_the_anonymous_throttle(settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        | {"anon": "60/minute"}
    }
    client = APIClient()

    statuses = [
        client.post(REFRESH_URL, {"refresh": "guess"}, format="json",
                    HTTP_X_FORWARDED_FOR=f"198.51.100.{n}", REMOTE_ADDR="10.0.0.1").status_code
        for n in range(70)
    ]  # fmt: skip

    assert statuses[:60] == [401] * 60
    assert set(statuses[60:]) == {429}


def test_spraying_one_password_across_accounts_is_throttled_per_address(settings):
    assert api_settings.NUM_PROXIES == 0  # the default: no proxy is trusted
    users = [UserFactory() for _ in range(25)]
    client = APIClient()

    statuses = [
        login_attempt(client, user.email, forwarded_for=f"203.0.113.{n}").status_code
        for n, user in enumerate(users)
    ]

    assert statuses[:20] == [401] * 20  # API_THROTTLE_LOGIN: 20 a minute per address
    assert set(statuses[20:]) == {429}
    throttled = login_attempt(client, users[0].email, forwarded_for="192.0.2.1")
    assert throttled.json()["error"]["code"] == "throttled"
    # another address is not affected
    assert login_attempt(client, users[0].email, "192.0.2.1", remote="10.0.0.2").status_code == 401


def test_behind_one_trusted_proxy_the_proxy_s_entry_is_the_client(settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {"NUM_PROXIES": 1}
    users = [UserFactory() for _ in range(21)]
    client = APIClient()

    # a client forging an extra entry: the proxy appends the address it saw, which is the same
    statuses = [
        login_attempt(client, user.email, forwarded_for=f"1.2.3.{n}, 198.51.100.7").status_code
        for n, user in enumerate(users)
    ]
    other_client = login_attempt(client, users[0].email, forwarded_for="198.51.100.8")

    assert statuses[:20] == [401] * 20 and statuses[20] == 429
    assert other_client.status_code == 401
