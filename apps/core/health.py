"""Readiness checks: each returns ``(ok, detail)`` and never raises."""

import time
import uuid
from collections.abc import Callable

from django.apps import apps
from django.core.cache import caches
from django.db import connections

from config.celery import app as celery_app

BROKER_TIMEOUT_S = 2.0


def _timed(check: Callable[[], str]) -> dict:
    started = time.perf_counter()
    try:
        detail, ok = check(), True
    except Exception as exc:  # a readiness probe reports failures, it does not raise them
        detail, ok = f"{type(exc).__name__}: {exc}", False
    return {
        "ok": ok,
        "detail": detail,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
    }


def _database(alias: str) -> Callable[[], str]:
    def check() -> str:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return connections[alias].vendor

    return check


def _cache() -> str:
    cache = caches["default"]
    key, value = f"readyz:{uuid.uuid4().hex}", "ok"
    cache.set(key, value, timeout=10)
    if cache.get(key) != value:
        raise RuntimeError("value written to the cache could not be read back")
    cache.delete(key)
    return type(cache).__name__


def _broker() -> str:
    if celery_app.conf.task_always_eager:
        return "eager (tasks run in-process; no broker)"
    with celery_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_S)
        return connection.as_uri()


def readiness_report() -> tuple[bool, dict]:
    checks = {"database": _timed(_database("default"))}
    if apps.is_installed("apps.legacy_sync"):  # v1's database matters only while it syncs
        checks["legacy_database"] = _timed(_database("legacy"))
    checks |= {"cache": _timed(_cache), "broker": _timed(_broker)}
    return all(c["ok"] for c in checks.values()), checks
