"""What every authenticated learner request pays before its view, measured in-process on
PostgreSQL and Redis (production settings), each piece against its old form in the same run:
the JWT user lookup (database, or the cache of apps/accounts/authentication.py), the user
throttle (DRF's history list, or the one-round-trip counter of apps/accounts/throttles.py),
a Redis client for a cache call, and a whole authenticated ``GET /api/v1/me/``.

Run: .venv/bin/python bench/load/overhead.py [rounds]     (scratch databases, ~20 s)
Ends with one JSON line of the figures (microseconds per call).
"""

import json
import os
import secrets
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench._common import SERVER, databases_create, databases_drop, manage, scratch_pair  # noqa: E402

RUN = uuid.uuid4().hex[:8]
NEW, LEGACY = scratch_pair("overhead", RUN)
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/9")
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings.production",
    DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
    DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1",
    DJANGO_SERVE_LOCAL_MEDIA="true",
    DATABASE_URL=f"{SERVER}/{NEW}",
    LEGACY_DATABASE_URL=f"{SERVER}/{LEGACY}",
    REDIS_URL=REDIS_URL,
    CACHE_KEY_PREFIX=f"overhead-{RUN}",
    API_THROTTLE_USER="1000000/minute",
    LOG_LEVEL="WARNING",
)


STOCK = "django.core.cache.backends.redis.RedisCache"
DRF_THROTTLE = "rest_framework.throttling.UserRateThrottle"


def per_call_us(fn, rounds: int) -> float:
    """Median of 5 batches, microseconds per call."""
    for _ in range(min(rounds, 50)):
        fn()
    batches = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(rounds):
            fn()
        batches.append((time.perf_counter() - started) * 1e6 / rounds)
    return statistics.median(batches)


def run(rounds: int) -> dict:
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIRequestFactory
    from rest_framework.throttling import UserRateThrottle as DrfUserRateThrottle
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.accounts.authentication import JWTAuthentication
    from apps.accounts.services import user_create
    from apps.accounts.throttles import UserRateThrottle

    user = user_create(email=f"overhead-{RUN}@example.com", password=None)
    token = str(AccessToken.for_user(user))
    factory = APIRequestFactory()
    wsgi = factory.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    auth = JWTAuthentication()

    def authenticate():
        from rest_framework.request import Request

        return auth.authenticate(Request(wsgi))

    class Drf(DrfUserRateThrottle):
        THROTTLE_RATES = {"user": "1200/minute"}

    class Mine(UserRateThrottle):
        THROTTLE_RATES = {"user": "1200/minute"}

    from rest_framework.request import Request

    request = Request(wsgi)
    request.user = user
    figures = {}
    with override_settings(AUTH_USER_CACHE_S=0):
        figures["jwt_auth_db_us"] = per_call_us(authenticate, rounds)
    with override_settings(AUTH_USER_CACHE_S=60):
        figures["jwt_auth_cached_us"] = per_call_us(authenticate, rounds)
    # DRF's history holds every request of the last minute: a learner at 1 request a
    # second carries 60 timestamps; that is the list kept here.
    for name, throttle_class in (("throttle_drf_us", Drf), ("throttle_counter_us", Mine)):
        cache.clear()

        def throttle(throttle_class=throttle_class):
            throttle = throttle_class()
            throttle.allow_request(request, None)  # past the count costs the same
            if throttle_class is Drf and len(throttle.history) > 60:
                cache.set(throttle.key, throttle.history[:60], 60)

        figures[name] = per_call_us(throttle, rounds)
    from django.core.cache.backends.redis import RedisCache as StockRedisCache

    stock = StockRedisCache(REDIS_URL, {"KEY_PREFIX": f"overhead-{RUN}"})
    figures["redis_client_stock_us"] = per_call_us(lambda: stock._cache.get_client(), rounds)
    figures["redis_client_pooled_us"] = per_call_us(lambda: cache._cache.get_client(), rounds)
    figures["cache_get_stock_us"] = per_call_us(lambda: stock.get("absent"), rounds)
    figures["cache_get_pooled_us"] = per_call_us(lambda: cache.get("absent"), rounds)
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_X_FORWARDED_PROTO": "https"}
    from django.conf import settings

    # Before: Django's stock Redis cache, the user read per request, DRF's throttle.
    stock_caches = {"default": settings.CACHES["default"] | {"BACKEND": STOCK}}
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_CLASSES"] = [*rest["DEFAULT_THROTTLE_CLASSES"][:1], DRF_THROTTLE]
    before = {"CACHES": stock_caches, "REST_FRAMEWORK": rest, "AUTH_USER_CACHE_S": 0}
    for name, overrides in (("me_before", before), ("me_after", {})):
        with override_settings(**overrides):
            assert client.get("/api/v1/me/", **headers).status_code == 200
            with CaptureQueriesContext(connection) as queries:
                client.get("/api/v1/me/", **headers)
            figures[f"{name}_queries"] = len(queries)
            figures[f"{name}_us"] = per_call_us(lambda: client.get("/api/v1/me/", **headers),
                                                max(rounds // 5, 50))  # fmt: skip
    # What CONN_HEALTH_CHECKS adds to a request that reuses its connection (one SELECT 1),
    # and what a request without a persistent connection would pay to connect.
    figures["db_health_check_us"] = per_call_us(connection.is_usable, rounds)

    def reconnect():
        connection.close()
        connection.ensure_connection()

    figures["db_connect_us"] = per_call_us(reconnect, max(rounds // 20, 20))
    return figures


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    databases_create(NEW, LEGACY, replace=True)
    try:
        manage("migrate", "--noinput")
        figures = run(rounds)
    finally:
        from django.db import connections

        connections.close_all()
        databases_drop(NEW, LEGACY)
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"*overhead-{RUN}*", count=1000):
            client.delete(key)
    for name, value in figures.items():
        print(f"{name:<26} {value:10.1f}")
    print(json.dumps({k: round(v, 1) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
