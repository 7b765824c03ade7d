"""JWT authentication reads the user from the cache, not the database, for a fresh token
(AUTH_USER_CACHE_S), and every change to the user is seen on the very next request: a
revocation, a deactivation, a password change, a lockout, a profile edit."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.authentication import JWTAuthentication, user_cache_keys
from apps.accounts.lockout import tokens_revoke_on_lockout
from apps.accounts.services import user_tokens_revoke, user_update_profile
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

ME_URL = "/api/v1/me/"


@pytest.fixture(autouse=True)
def _user_cache_on(settings):
    settings.AUTH_USER_CACHE_S = 60


def make_user(**fields):
    """A user whose password was set a minute ago (the tokens below are ten seconds old)."""
    user = UserFactory(**fields)
    user.tokens_valid_after = timezone.now() - timedelta(minutes=1)
    user.save(update_fields=["tokens_valid_after"])
    return user


def token_for(user) -> AccessToken:
    """Issued ten seconds ago: ``iat`` has whole seconds, a change in the same second as the
    token would not be told apart from one before it."""
    token = AccessToken.for_user(user)
    token.set_iat(at_time=timezone.now() - timedelta(seconds=10))
    return token


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return client


def user_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if '"accounts_user"' in q["sql"]]


def test_a_fresh_token_is_authenticated_without_reading_the_user_row():
    client = client_for(make_user())
    assert client.get(ME_URL).status_code == 200  # the first request fills the cache

    with CaptureQueriesContext(connection) as cached:
        assert client.get(ME_URL).status_code == 200

    assert user_queries(cached) == []


def test_an_authenticated_get_runs_one_statement_fewer_than_without_the_cache(settings):
    client = client_for(make_user())
    client.get(ME_URL)
    with CaptureQueriesContext(connection) as cached:
        client.get(ME_URL)
    settings.AUTH_USER_CACHE_S = 0
    with CaptureQueriesContext(connection) as uncached:
        client.get(ME_URL)

    assert len(cached) == len(uncached) - 1


def test_a_revoked_token_is_refused_on_the_next_request():
    user = make_user()
    client = client_for(user)
    assert client.get(ME_URL).status_code == 200

    user_tokens_revoke(user=user)

    response = client.get(ME_URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_revoked"


def test_a_deactivated_user_is_refused_on_the_next_request():
    user = make_user()
    client = client_for(user)
    assert client.get(ME_URL).status_code == 200

    user.is_active = False
    user.save(update_fields=["is_active"])  # any save, without a revocation

    assert client.get(ME_URL).status_code == 401


def test_a_password_change_is_refused_on_the_next_request():
    user = make_user()
    client = client_for(user)
    assert client.get(ME_URL).status_code == 200

    user.set_password("a-new-passphrase-2")
    user.save()

    assert client.get(ME_URL).status_code == 401


def test_a_lockout_is_refused_on_the_next_request():
    user = make_user()
    client = client_for(user)
    assert client.get(ME_URL).status_code == 200

    tokens_revoke_on_lockout(sender=None, username=user.email.upper())

    assert client.get(ME_URL).status_code == 401


def test_a_profile_edit_is_seen_on_the_next_request():
    user = make_user(timezone="Europe/London")
    client = client_for(user)
    assert client.get(ME_URL).json()["timezone"] == "Europe/London"

    user_update_profile(user=user, timezone="Asia/Tokyo")

    assert client.get(ME_URL).json()["timezone"] == "Asia/Tokyo"


def test_a_row_read_before_a_change_is_never_served_after_it():
    """The race: a request reads the row, the row changes (new generation), then the request
    stores what it read. The stored entry carries the old generation and is refused."""
    user = make_user()
    token = token_for(user)
    auth = JWTAuthentication()

    key, generation_key = user_cache_keys(user.pk)
    stale_generation = cache.get(generation_key)
    user_tokens_revoke(user=user)
    cache.set(key, (stale_generation, user.__class__.objects.get(pk=user.pk)), 60)
    user.__class__.objects.filter(pk=user.pk).update(is_active=False)  # what the DB says now

    with pytest.raises(AuthenticationFailed):
        auth.get_user(token)


def test_the_password_hash_stays_out_of_the_cache():
    user = make_user()
    client = client_for(user)
    client.get(ME_URL)

    _, cached = cache.get(user_cache_keys(user.pk)[0])
    assert "password" not in cached.__dict__
    assert cached.check_password("correct-horse-battery")  # read back on access


def test_without_the_setting_every_request_reads_the_user(settings):
    settings.AUTH_USER_CACHE_S = 0
    client = client_for(make_user())
    client.get(ME_URL)

    with CaptureQueriesContext(connection) as queries:
        assert client.get(ME_URL).status_code == 200

    assert len(user_queries(queries)) == 1


def test_an_entry_whose_generation_was_evicted_is_not_used():
    user = make_user()
    client = client_for(user)
    client.get(ME_URL)
    key, generation_key = user_cache_keys(user.pk)
    assert cache.get(key) is not None
    cache.delete(generation_key)  # evicted under memory pressure, say

    with CaptureQueriesContext(connection) as queries:
        assert client.get(ME_URL).status_code == 200

    assert len(user_queries(queries)) == 1


def test_a_process_with_the_cache_off_still_invalidates_it(settings):
    user = make_user()
    client = client_for(user)
    client.get(ME_URL)
    settings.AUTH_USER_CACHE_S = 0  # e.g. a shell started with it off, on the same Redis

    user_tokens_revoke(user=user)

    settings.AUTH_USER_CACHE_S = 60
    assert client.get(ME_URL).status_code == 401
