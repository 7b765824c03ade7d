import pytest
from django.conf import settings

from config.celery import app as celery_app
from tests.accounts.factories import UserFactory
from tests.legacy import LEGACY_SYNC_INSTALLED

# v1's database is checked while the migration app is installed, and only then
CHECKS = {"database", "cache", "broker"} | ({"legacy_database"} if LEGACY_SYNC_INSTALLED else set())

pytestmark = pytest.mark.django_db(databases=["default", "legacy"])


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True))
    return client


def test_healthz_is_alive(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_every_dependency(staff_client):
    response = staff_client.get("/readyz")

    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert set(checks) == CHECKS
    assert all(check["ok"] for check in checks.values())
    assert all({"detail", "latency_ms"} <= set(check) for check in checks.values())


def test_anonymous_readyz_shows_the_status_but_no_details(client, settings):
    settings.READYZ_TOKEN = "probe-secret"

    anonymous = client.get("/readyz")
    wrong_token = client.get("/readyz", headers={"X-Readyz-Token": "guess"})
    with_token = client.get("/readyz", headers={"X-Readyz-Token": "probe-secret"})

    assert anonymous.status_code == 200
    assert (
        anonymous.json()
        == wrong_token.json()
        == {
            "status": "ready",
            "checks": {name: {"ok": True} for name in CHECKS},
        }
    )
    assert "detail" in with_token.json()["checks"]["database"]


@pytest.fixture
def broker_url(monkeypatch):
    """Point readiness at a broker URL with eager mode off (restored afterwards)."""

    def use(url: str) -> None:
        monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
        monkeypatch.setitem(celery_app.conf, "broker_url", url)
        monkeypatch.setitem(celery_app.conf, "broker_write_url", url)

    return use


def test_readyz_reports_a_dead_broker_with_503(staff_client, broker_url):
    broker_url("redis://127.0.0.1:1/0")  # nothing listens on port 1

    response = staff_client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert "Error" in body["checks"]["broker"]["detail"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (CI sets it)")
def test_readyz_reaches_the_real_redis_broker_and_cache(staff_client, broker_url):
    broker_url(settings.CELERY_BROKER_URL)

    checks = staff_client.get("/readyz").json()["checks"]

    assert checks["broker"]["ok"] is True
    assert checks["broker"]["detail"].startswith("redis://")
    assert checks["cache"]["detail"] == "RedisCache"
