"""PostgreSQL connections used moments ago skip Django's per-request SELECT 1 health check
(config/db_backends/postgresql/base.py); idle ones are still checked."""

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the backend wraps PostgreSQL's (set DATABASE_URL)",
    ),
]


@pytest.fixture
def checks(monkeypatch, settings):
    """Counts the health checks (each is a SELECT 1 round trip)."""
    settings.DATABASE_HEALTH_CHECK_DELAY_S = 5.0
    connection.ensure_connection()
    assert connection.health_check_enabled  # CONN_HEALTH_CHECKS, as in production
    done = []
    real = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: done.append(1) or real())
    return done


def _next_request():
    """What Django does to a reused connection between requests (close_old_connections)."""
    connection.health_check_done = False


def test_a_connection_used_moments_ago_is_not_checked(checks):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    _next_request()
    with connection.cursor() as cursor:  # the next request's first query
        cursor.execute("SELECT 1")
    assert checks == []


def test_an_idle_connection_is_checked_and_zero_checks_every_time(checks, monkeypatch, settings):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    monkeypatch.setattr(connection, "used_at", connection.used_at - 6)  # idle for 6 s
    _next_request()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert checks == [1]

    settings.DATABASE_HEALTH_CHECK_DELAY_S = 0  # stock Django's behaviour
    _next_request()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert checks == [1, 1]
