"""Shared fixtures. Integration tests get a real Celery worker on the test database."""

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.db import connections
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from config.celery import app as celery_app
from devtools.celery_worker import WorkerStartError, worker_start, worker_stop
from tests.accounts.factories import PASSWORD, UserFactory
from tests.legacy import LEGACY_SYNC_INSTALLED

ROOT = Path(__file__).resolve().parent.parent
WORKER_START_TIMEOUT_S = 60


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters and lockouts live in the cache; each test starts clean.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _test_logins_pass_mfa(monkeypatch):
    """``force_login`` and ``login`` skip the admin's password form; they skip its second step
    (staff MFA) too. tests/accounts/test_mfa.py walks the real forms."""
    original_force_login, original_login = Client.force_login, Client.login

    def force_login(self, user, backend=None):
        original_force_login(self, user, backend)
        mfa_session_verify(self, user)

    def login(self, **credentials):
        logged_in = original_login(self, **credentials)
        if logged_in:
            user_id = self.session[SESSION_KEY]
            mfa_session_verify(self, UserFactory._meta.model.objects.get(pk=user_id))
        return logged_in

    monkeypatch.setattr(Client, "force_login", force_login)
    monkeypatch.setattr(Client, "login", login)


def mfa_session_verify(client: Client, user) -> None:
    """Mark the client's session verified by a confirmed authenticator of ``user``'s."""
    if not user.is_staff:
        return
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=True, defaults={"name": "test authenticator"}
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def learner(db):
    return UserFactory()


@pytest.fixture
def learner_client(learner) -> APIClient:
    client = APIClient()
    client.force_authenticate(learner)
    return client


@pytest.fixture
def password() -> str:
    return PASSWORD


def _postgresql_missing() -> str | None:
    for alias, variable in (("default", "DATABASE_URL"), ("legacy", "LEGACY_DATABASE_URL")):
        if connections[alias].vendor != "postgresql":
            return f"{variable} does not point at PostgreSQL"
    return None


def _integration_services_missing() -> str | None:
    if connections["default"].vendor != "postgresql":
        return "DATABASE_URL does not point at PostgreSQL"
    if not settings.REDIS_URL:
        return "REDIS_URL is not set"
    return None


def _skip_unless(missing: str | None, what: str) -> None:
    """Skip for want of a service, unless CI_REQUIRE_INTEGRATION=1 makes that a failure."""
    if missing:
        if os.environ.get("CI_REQUIRE_INTEGRATION") == "1":
            pytest.fail(f"{what} tests are required but {missing}")
        pytest.skip(f"{what} test skipped: {missing}")


# At cutover the migration app is switched off (LEGACY_SYNC_ENABLED=false): its own tests go,
# and tests marked ``legacy_sync`` (v1 parts of wider journeys) skip. Everything else runs.
collect_ignore = [] if LEGACY_SYNC_INSTALLED else ["legacy_sync"]


@pytest.fixture(autouse=True)
def _marked_services(request):
    """Tests marked ``integration`` or ``postgresql`` run only where those services are;
    ``legacy_sync`` ones only while the migration app is installed."""
    if request.node.get_closest_marker("legacy_sync") and not LEGACY_SYNC_INSTALLED:
        pytest.skip("the migration app is switched off (LEGACY_SYNC_ENABLED=false)")
    if request.node.get_closest_marker("integration"):
        _skip_unless(_integration_services_missing(), "integration")
    if request.node.get_closest_marker("postgresql"):
        _skip_unless(_postgresql_missing(), "PostgreSQL")


def _database_url(alias: str) -> str:
    db = connections[alias].settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def celery_worker_queue(django_db_setup, django_db_blocker):
    """Start ``celery worker`` as a separate process on the test database; yield its queue.

    Skips without PostgreSQL and Redis, unless CI_REQUIRE_INTEGRATION=1 makes that a failure.
    """
    _skip_unless(_integration_services_missing(), "integration")

    queue = f"test-{uuid.uuid4().hex[:12]}"
    worker, log = celery_worker_start(queue)
    try:
        yield queue
    finally:
        celery_worker_stop(worker, log)


def celery_worker_start(queue: str, env_extra: dict | None = None):
    """A ``celery worker`` process on the test databases consuming ``queue``, once it is
    ready; returns (process, log path). Tests that kill workers start their own. The start-up
    is devtools/celery_worker.py's, which the benchmarks share."""
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url("default"),
        "LEGACY_DATABASE_URL": _database_url("legacy"),
        "CELERY_QUEUE": queue,
        **(env_extra or {}),
    }
    log_path = ROOT / "var" / f"celery-worker-{queue}.log"
    try:
        worker = worker_start(queue, log_path, env=env, pool="solo",
                              timeout=WORKER_START_TIMEOUT_S)  # fmt: skip
    except WorkerStartError as exc:
        pytest.fail(str(exc))
    return worker, log_path


def celery_worker_stop(worker: subprocess.Popen, log_path: Path | None = None) -> None:
    """Stop a worker from celery_worker_start (its log stays in var/)."""
    worker_stop(worker, timeout=20)


@pytest.fixture
def real_celery(celery_worker_queue):
    """Send tasks through the broker to the worker (eager mode off) for one test."""
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.task_default_queue
    conf.task_always_eager, conf.task_default_queue = False, celery_worker_queue
    yield celery_worker_queue
    conf.task_always_eager, conf.task_default_queue = saved


class MemoClock:
    """A monotonic clock the test moves by hand (``clock.now += 1``)."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def memo_clock(monkeypatch, settings):
    """The process memo on (production's setting; the tests' is off), empty, and on a clock the
    test moves (apps/core/process_memo.py)."""
    from apps.core import process_memo

    settings.PROCESS_MEMO = True
    monkeypatch.setattr(process_memo, "_kept", {})
    clock = MemoClock()
    monkeypatch.setattr(process_memo.time, "monotonic", clock)
    return clock
