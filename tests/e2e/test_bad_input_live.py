"""The bad-input suite: hostile requests to a live server, over HTTP, never get a 5xx.

The server is a real process on the test database: gunicorn with production settings when the
run is on PostgreSQL (CI), and the embedded default (dev settings, SQLite, no Redis) otherwise;
.ci/run runs this module both ways. Every write operation of the OpenAPI schema gets a
generated corpus of hostile bodies: deep nesting, huge strings, NUL and lone surrogates, wrong
types, extreme numbers and dates, non-JSON and oversized bodies. Each answer must be below 500,
a refusal must be the error envelope, and a refused request must have written nothing (every
table's row count is compared; django-axes' failure log writes by design and is left out).
Concurrent duplicate writes must resolve to one row.
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connections
from django.utils import timezone

from apps.assessment.models import MockTestBlueprint
from apps.assessment.services import SectionInput, mock_test_blueprint_save, mock_test_start
from apps.learning.models import Attempt, StudySession, StudyTask, XPEvent
from apps.learning.services.sessions import study_session_start
from tests.accounts.factories import PASSWORD, UserFactory
from tests.conftest import _database_url
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory, UnitFactory

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)

ROOT = Path(__file__).resolve().parents[2]
HUGE = "x" * 1_000_000  # under the 2.5 MB body limit, over every field's own
HOSTILE_VALUES = [
    HUGE, "", "\x00", "a\x00b", "\ud800", "\udfff tail", [], {}, [[[[[[[[["deep"]]]]]]]]],
    0, -1, 2**64, -(2**63) - 1, 1e308, -1e308, 5e-324, True, False, None,
    "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-02-30T25:61:00Z", "-0001-01-01",
    "NaN", "' OR 1=1 --", "../../etc/passwd", "<script>alert(1)</script>", "😀" * 1000,
]  # fmt: skip
NOT_JSON_BODIES = {
    "deep nesting": b"[" * 5000 + b"]" * 5000,
    "deep object": b'{"a":' * 5000 + b"1" + b"}" * 5000,
    "truncated": b'{"a": [1, 2',
    "invalid utf-8": b'{"a": "\xff\xfe"}',
    "empty": b"",
    "array": b"[]",
    "null": b"null",
    "string": b'"text"',
    "number": b"12",
    "NaN token": b'{"a": NaN}',
    "10 MB": b'{"a": "' + b"x" * 10_000_000 + b'"}',
}
# django-axes logs failed logins (that is its job); every other table must not change.
WRITES_BY_DESIGN = {"axes"}


# --- The server -------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_environment(queue: str) -> tuple[dict, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env |= {
        "DATABASE_URL": _database_url("default"),
        "LEGACY_DATABASE_URL": _database_url("legacy"),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # Throttles and lockouts are tested elsewhere; here they would hide the handlers.
        "API_THROTTLE_ANON": "1000000/minute",
        "API_THROTTLE_USER": "1000000/minute",
        "API_THROTTLE_LOGIN": "1000000/minute",
        "AXES_FAILURE_LIMIT": "1000000",
        "CELERY_QUEUE": queue,
        "CACHE_KEY_PREFIX": queue,
        "LOG_LEVEL": "WARNING",
    }
    if connections["default"].vendor == "postgresql":
        env |= {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
            "DJANGO_SERVE_LOCAL_MEDIA": "true",
        }
        return env, "gunicorn, production settings, PostgreSQL"
    for name in ("REDIS_URL", "CACHE_REDIS_URL"):
        env.pop(name, None)
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.dev", "DJANGO_DEBUG": "false"}
    return env, "gunicorn, the embedded default (SQLite, no Redis)"


@pytest.fixture(scope="session")
def live_api(django_db_setup, django_db_blocker):
    """A gunicorn process on the test databases; yields its base URL. Stopped before the
    test databases are dropped (it holds connections to them)."""
    queue = f"bad-input-{uuid.uuid4().hex[:12]}"
    env, kind = _server_environment(queue)
    port = _free_port()
    log_path = ROOT / "var" / f"{queue}.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--timeout", "120"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(base, server, log_path)
            print(f"bad-input suite against {kind} at {base}")
            yield base
        finally:
            server.terminate()
            server.wait(timeout=30)
            _broker_queue_drop(env, queue)


def _wait_for(base: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited:\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or workers still booting
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer /healthz:\n{log_path.read_text()[-3000:]}")


def _broker_queue_drop(env: dict, queue: str) -> None:
    """Tasks the server queued after commit have no worker here; do not leave them behind."""
    if env.get("REDIS_URL"):
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).delete(queue)


# --- The world ------------------------------------------------------------------------------
@pytest.fixture
def world(live_api):
    """A published course and atom, a learner with a session and one answer, an author with a
    draft; their tokens obtained from the live server as clients would."""
    course = CourseFactory(title="Hostile")
    unit = UnitFactory(course=course)
    concept = ConceptFactory(course=course, units=[unit])
    atom = make_atom("mcq", concept=concept, title="Stopping distance")
    mock_test_blueprint_save(
        blueprint=MockTestBlueprint(course=course, time_limit_minutes=10, pass_mark_percent=50),
        sections=[SectionInput(1, unit=unit)],
        by=None,
        source="test",
    )
    author = UserFactory(is_staff=True, roles=["Authors"])
    draft = make_atom("mcq", concept=concept, title="Draft", status="draft", by=author)
    learner = UserFactory()
    session = study_session_start(learner=learner, course=course)
    placement = study_session_start(learner=learner, course=course, kind="placement")
    test = mock_test_start(learner=learner, course=course)
    task = StudyTask.objects.create(learner=learner, title="Read the Highway Code")
    world = {
        "base": live_api,
        "course": str(course.pk),
        "atom": str(atom.pk),
        "draft": str(draft.pk),
        "session": str(session.pk),
        "placement": str(placement.pk),
        "test": str(test.pk),
        "task": str(task.pk),
        "learner": learner,
    }
    world["learner_token"] = _token(live_api, learner)
    world["author_token"] = _token(live_api, author)
    answer = _attempt_body(world)
    response = _post(world, "/api/v1/attempts/", answer | {"session": world["session"]})
    assert response.status_code == 201, response.text
    return world


def _token(base: str, user) -> str:
    # The tests hash with MD5 for speed; the server knows only the real hashers.
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    credentials = {"email": user.email, "password": PASSWORD}
    response = requests.post(f"{base}/api/v1/auth/token/", json=credentials, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["access"]


def _attempt_body(world: dict) -> dict:
    return {"client_attempt_id": str(uuid.uuid4()), "atom": world["atom"],
            "response": {"choice": 1}, "time_taken_ms": 1500}  # fmt: skip


# Every write operation of the schema, with a valid-looking body to corrupt, and whose token.
def _operations(world: dict) -> dict:
    now = timezone.now().isoformat()
    return {
        "POST /api/v1/attempts/": ("learner", _attempt_body(world)),
        "POST /api/v1/attempts/batch/": ("learner", {"attempts": [_attempt_body(world)]}),
        "POST /api/v1/auth/token/": (None, {"email": world["learner"].email, "password": "wrong"}),
        "POST /api/v1/auth/token/refresh/": (None, {"refresh": "not-a-token"}),
        "POST /api/v1/auth/token/revoke/": (None, {"refresh": "not-a-token"}),
        f"POST /api/v1/authoring/atoms/{world['draft']}/transitions/": (
            "author",
            {"action": "submit", "comment": "please review"},
        ),
        "PATCH /api/v1/me/": ("learner", {"display_name": "Ada", "timezone": "Europe/London"}),
        "POST /api/v1/progress/reset/": ("learner", {"confirm": True}),
        "POST /api/v1/sessions/": (
            "learner",
            {
                "kind": "practice",
                "course": world["course"],
                "device": "phone",
                "app_version": "1.0",
                "started_at": now,
            },
        ),
        f"POST /api/v1/sessions/{world['session']}/complete/": ("learner", {"completed_at": now}),
        "POST /api/v1/scheduler/placement/finish/": ("learner", {"session": world["placement"]}),
        f"PATCH /api/v1/tasks/{world['task']}/": ("learner", {"status": "done"}),
        "POST /api/v1/mock-tests/": ("learner", {"course": world["course"]}),
        f"POST /api/v1/mock-tests/{world['test']}/answers/": (
            "learner",
            {
                "atom": world["atom"],
                "response": {"choice": 1},
                "client_attempt_id": str(uuid.uuid4()),
            },
        ),
        f"POST /api/v1/mock-tests/{world['test']}/submit/": ("learner", {}),
    }


def _schema_write_operations(base: str) -> set[str]:
    schema = requests.get(f"{base}/api/schema/?format=json", timeout=30).json()
    return {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("post", "put", "patch", "delete")
    }


def _hostile_bodies(body: dict):
    """(label, JSON-encodable body): each field, in turn, replaced by each hostile value; for a
    batch, each field of its row too."""
    for name in body:
        for value in HOSTILE_VALUES:
            yield f"{name}={_short(value)}", {**body, name: value}
    if "attempts" in body:
        [row] = body["attempts"]
        for name in row:
            for value in HOSTILE_VALUES:
                yield f"attempts[0].{name}={_short(value)}", {"attempts": [{**row, name: value}]}
        yield "attempts=[null]", {"attempts": [None]}
        yield "attempts=501 rows", {"attempts": [row] * 501}


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 40 else f"{text[:30]}… ({len(text)} chars)"


# --- Asserting ---------------------------------------------------------------------------------
def _row_counts() -> dict[str, int]:
    counts = {}
    for model in apps.get_models():
        if model._meta.app_label in WRITES_BY_DESIGN or not model._meta.managed:
            continue
        counts[model._meta.label] = model._default_manager.count()
    return counts


def _send(world: dict, operation: str, who: str | None, data: bytes, content_type: str):
    method, path = operation.split(" ", 1)
    headers = {"Content-Type": content_type}
    if who:
        headers["Authorization"] = f"Bearer {world[f'{who}_token']}"
    return requests.request(method, world["base"] + path, data=data, headers=headers, timeout=60)


def _post(world: dict, path: str, body: dict):
    return _send(world, f"POST {path}", "learner", json.dumps(body).encode(), "application/json")


def _judge(response, before: dict, label: str, failures: list) -> None:
    if response.status_code >= 500:
        failures.append(f"{label}: {response.status_code} {response.text[:200]}")
        return
    if response.status_code < 400:
        return
    try:
        error = response.json()["error"]
        assert {"code", "message", "details"} <= set(error)
    except (ValueError, KeyError, TypeError, AssertionError):
        failures.append(
            f"{label}: {response.status_code} without the envelope: {response.text[:200]}"
        )
        return
    after = _row_counts()
    written = {
        table: after[table] - before[table] for table in after if after[table] != before[table]
    }
    if written:
        failures.append(f"{label}: refused ({response.status_code}) but wrote {written}")


def test_every_write_operation_is_in_the_corpus(world):
    assert _schema_write_operations(world["base"]) == {
        op.replace(world["draft"], "{atom_id}")
        .replace(world["session"], "{session_id}")
        .replace(world["test"], "{test_id}")
        .replace(world["task"], "{task_id}")
        for op in _operations(world)
    }


def test_hostile_bodies_to_every_write_operation_never_get_a_5xx(world):
    failures: list[str] = []
    statuses: dict[int, int] = {}
    for operation, (who, body) in _operations(world).items():
        for label, hostile in _hostile_bodies(body):
            before = _row_counts()
            data = json.dumps(hostile).encode()  # lone surrogates travel as \\ud800 escapes
            response = _send(world, operation, who, data, "application/json")
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            _judge(response, before, f"{operation} {label}", failures)
    print("statuses:", dict(sorted(statuses.items())))
    assert not failures, "\n".join(failures[:40])


def test_bodies_that_are_not_json_objects_never_get_a_5xx(world):
    failures: list[str] = []
    for operation, (who, _) in _operations(world).items():
        for label, data in NOT_JSON_BODIES.items():
            before = _row_counts()
            _judge(_send(world, operation, who, data, "application/json"), before,
                   f"{operation} {label}", failures)  # fmt: skip
        before = _row_counts()
        _judge(_send(world, operation, who, b"a=1", "text/plain"), before,
               f"{operation} text/plain", failures)  # fmt: skip
    assert not failures, "\n".join(failures[:40])


def test_an_oversized_body_is_a_413_naming_the_limit(world):
    response = _send(world, "POST /api/v1/attempts/batch/", "learner",
                     NOT_JSON_BODIES["10 MB"], "application/json")  # fmt: skip

    assert response.status_code == 413
    assert response.json()["error"]["details"] == {
        "limit_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    }


def test_concurrent_duplicate_writes_resolve_to_one_row(world):
    learner = world["learner"]
    body = _attempt_body(world) | {"session": world["session"]}
    before = Attempt.objects.filter(learner=learner).count()

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda _: _post(world, "/api/v1/attempts/", body), range(8)))
    codes = sorted(reply.status_code for reply in replies)

    assert codes == [200] * 7 + [201], [reply.text[:200] for reply in replies]
    assert len({json.dumps(reply.json(), sort_keys=True) for reply in replies}) == 1
    assert Attempt.objects.filter(learner=learner).count() == before + 1

    path = f"/api/v1/sessions/{world['session']}/complete/"
    with ThreadPoolExecutor(max_workers=8) as pool:
        completions = list(pool.map(lambda _: _post(world, path, {}), range(8)))

    assert [reply.status_code for reply in completions] == [200] * 8
    assert len({reply.json()["completed_at"] for reply in completions}) == 1
    session = StudySession.objects.get(pk=world["session"])
    assert XPEvent.objects.filter(session=session, reason="session_complete").count() == 1


def test_sessions_outside_the_clock_bounds_are_refused(world):
    far = timezone.now() + timedelta(days=3650 * 100)
    for started_at in ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", far.isoformat()):
        before = _row_counts()
        response = _post(world, "/api/v1/sessions/", {"started_at": started_at})
        failures: list[str] = []
        _judge(response, before, started_at, failures)
        assert response.status_code == 400 and not failures, (response.text, failures)
