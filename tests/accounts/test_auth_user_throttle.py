"""The per-user throttle counts in one cache round trip on Redis and keeps DRF's limit and
answer: past the rate's count, 429 with Retry-After until the window ends."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle as DrfUserRateThrottle

from apps.accounts.throttles import UserRateThrottle, redis_client
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

ME_URL = "/api/v1/me/"


@pytest.fixture
def three_a_minute(monkeypatch):
    monkeypatch.setattr(DrfUserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})


def test_the_api_uses_the_one_round_trip_throttle():
    from rest_framework.settings import api_settings

    assert UserRateThrottle in api_settings.DEFAULT_THROTTLE_CLASSES


def test_past_the_count_a_user_gets_429_with_retry_after(three_a_minute):
    client = APIClient()
    client.force_authenticate(UserFactory())

    statuses = [client.get(ME_URL).status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 429, 429]
    response = client.get(ME_URL)
    assert response.json()["error"]["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60


def test_each_user_has_their_own_count(three_a_minute):
    first, second = APIClient(), APIClient()
    first.force_authenticate(UserFactory())
    second.force_authenticate(UserFactory())

    assert [first.get(ME_URL).status_code for _ in range(4)][-1] == 429
    assert second.get(ME_URL).status_code == 200


@pytest.mark.skipif(redis_client(cache) is None, reason="the counter is Redis's (REDIS_URL)")
def test_on_redis_the_count_is_one_key_that_expires_with_the_window(three_a_minute):
    user = UserFactory()
    client = APIClient()
    client.force_authenticate(user)
    client.get(ME_URL)
    client.get(ME_URL)

    key = cache.make_and_validate_key(f"throttle_user_{user.pk}:window")
    redis = redis_client(cache)
    assert int(redis.get(key)) == 2
    assert 0 < redis.ttl(key) <= 60
