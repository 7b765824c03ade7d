import pytest
from django.conf import settings

from config.celery import app as celery_app

pytestmark = pytest.mark.django_db(databases=["default", "legacy"])


def test_healthz_is_alive(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_every_dependency(client):
    response = client.get("/readyz")

    assert response.status_code == 200, response.json()
    checks = response.json()["checks"]
    assert set(checks) == {"database", "legacy_database", "cache", "broker"}
    assert all(check["ok"] for check in checks.values())


@pytest.fixture
def broker_url(monkeypatch):
    """Point readiness at a broker URL with eager mode off (restored afterwards)."""

    def use(url: str) -> None:
        monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
        monkeypatch.setitem(celery_app.conf, "broker_url", url)
        monkeypatch.setitem(celery_app.conf, "broker_write_url", url)

    return use


def test_readyz_reports_a_dead_broker_with_503(client, broker_url):
    broker_url("redis://127.0.0.1:1/0")  # nothing listens on port 1

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert "Error" in body["checks"]["broker"]["detail"]
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (CI sets it)")
def test_readyz_reaches_the_real_redis_broker_and_cache(client, broker_url):
    broker_url(settings.CELERY_BROKER_URL)

    checks = client.get("/readyz").json()["checks"]

    assert checks["broker"]["ok"] is True
    assert checks["broker"]["detail"].startswith("redis://")
    assert checks["cache"]["detail"] == "RedisCache"
