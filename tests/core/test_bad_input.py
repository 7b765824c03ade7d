"""Hostile input gets a clear 4xx in the error envelope, never a 500, and writes nothing."""

import json
import uuid

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.learning.models import Attempt, StudySession

pytestmark = pytest.mark.django_db


def post_raw(client: APIClient, path: str, body: bytes):
    return client.generic("POST", path, body, content_type="application/json")


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert body["error"]["code"] == code, body
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


DEEP = b"[" * 5000 + b"]" * 5000


def test_deeply_nested_json_is_a_parse_error_for_anonymous_callers():
    response = post_raw(APIClient(), "/api/v1/auth/token/", DEEP)

    assert_envelope(response, 400, "parse_error")


def test_deeply_nested_json_is_a_parse_error_for_learners(learner_client):
    body = b'{"client_attempt_id": "%s", "atom": 1, "response": ' % uuid.uuid4().hex.encode()
    response = post_raw(learner_client, "/api/v1/attempts/", body + DEEP + b"}")

    assert_envelope(response, 400, "parse_error")
    assert not Attempt.objects.exists()


def test_a_body_over_the_upload_limit_is_a_413_naming_the_limit(learner_client):
    row = {"client_attempt_id": None, "atom": 1, "response": {"choice": 0}, "time_taken_ms": 1}
    rows = [dict(row, client_attempt_id=str(uuid.uuid4())) for _ in range(100_000)]

    response = post_raw(
        learner_client, "/api/v1/attempts/batch/", json.dumps({"attempts": rows}).encode()
    )

    error = assert_envelope(response, 413, "request_too_large")
    assert error["details"] == {"limit_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
    assert f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,}" in error["message"]
    assert not Attempt.objects.exists()


@pytest.mark.parametrize("confirm", ["yes", 1, "on", "true", "True", None, [True]])
def test_progress_reset_is_confirmed_only_by_json_true(learner_client, confirm):
    response = learner_client.post("/api/v1/progress/reset/", {"confirm": confirm}, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert "confirm" in error["details"]


def test_one_null_row_in_a_batch_is_that_rows_error_only(learner_client):
    response = learner_client.post(
        "/api/v1/attempts/batch/", {"attempts": [None, {"atom": "x"}]}, format="json"
    )

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(r["index"], r["status"], r["http_status"]) for r in results] == [
        (0, "invalid", 400),
        (1, "invalid", 400),
    ]
    assert results[0]["error"]["error"]["details"] == {"row": ["Must be an object."]}


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_a_session_cannot_start_or_end_outside_the_clock_bounds(learner_client, learner, when):
    start = learner_client.post("/api/v1/sessions/", {"started_at": when}, format="json")
    error = assert_envelope(start, 400, "validation_error")
    assert "started_at" in error["details"]
    assert not StudySession.objects.exists()

    session = learner_client.post("/api/v1/sessions/", {}, format="json").json()
    end = learner_client.post(
        f"/api/v1/sessions/{session['id']}/complete/", {"completed_at": when}, format="json"
    )
    error = assert_envelope(end, 400, "validation_error")
    assert "completed_at" in error["details"]
    assert StudySession.objects.get().completed_at is None


def test_an_unpaired_surrogate_escape_is_a_parse_error_not_a_500(learner_client):
    # found by the live bad-input suite: the error echoed the value, and rendering it failed
    response = post_raw(learner_client, "/api/v1/sessions/", b'{"kind": "\\ud800"}')

    assert_envelope(response, 400, "parse_error")
    assert not StudySession.objects.exists()


def test_a_megabyte_email_at_login_is_a_validation_error():
    # found by the live bad-input suite: SQLite refused the LIKE pattern of the lookup
    credentials = {"email": "x" * 1_000_000, "password": "whatever"}

    response = APIClient().post("/api/v1/auth/token/", credentials, format="json")

    error = assert_envelope(response, 400, "validation_error")
    assert "email" in error["details"]
