"""Every API error, whatever its cause, is JSON {"error": {"code", "message", "details"}}."""

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

ME_URL = "/api/v1/me/"


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert error["message"]
    return error


def test_400_validation_error_names_the_field(learner_client):
    error = assert_envelope(
        learner_client.patch(ME_URL, {"timezone": "Atlantis/Capital"}, format="json"),
        400,
        "validation_error",
    )
    assert "not an IANA time zone" in error["details"]["timezone"][0]


def test_400_malformed_json_is_a_parse_error(learner_client):
    response = learner_client.patch(ME_URL, data="{not json", content_type="application/json")
    assert_envelope(response, 400, "parse_error")


def test_401_without_credentials(api_client):
    assert_envelope(api_client.get(ME_URL), 401, "not_authenticated")


def test_403_session_write_without_csrf_token():
    user = UserFactory()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    error = assert_envelope(
        client.patch(ME_URL, {"display_name": "x"}, format="json"), 403, "permission_denied"
    )
    assert "CSRF" in error["message"]


def test_404_unknown_api_path_is_json(learner_client):
    error = assert_envelope(learner_client.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert error["details"]["path"] == "/api/v1/no-such-thing/"


def test_404_unknown_api_path_with_a_newline_is_json(learner_client):
    # Found by tests/e2e/test_api_fuzz.py: the catch-all did not match past a %0A.
    response = learner_client.get("/api/v1/authoring/atoms/x%0Ay/transitions/")

    error = assert_envelope(response, 404, "not_found")
    assert error["details"]["path"] == "/api/v1/authoring/atoms/x\ny/transitions/"


def test_404_missing_trailing_slash_gets_a_hint_not_an_html_error(learner_client):
    error = assert_envelope(learner_client.post("/api/v1/auth/token", {}), 404, "not_found")
    assert "/api/v1/auth/token/" in error["details"]["hint"]


def test_405_wrong_method(learner_client):
    assert_envelope(learner_client.delete(ME_URL), 405, "method_not_allowed")


def test_429_throttled_user_with_retry_after(learner_client, monkeypatch):
    monkeypatch.setattr(
        UserRateThrottle, "THROTTLE_RATES", {"user": "2/minute", "anon": "2/minute"}
    )

    for _ in range(2):
        assert learner_client.get(ME_URL).status_code == 200
    response = learner_client.get(ME_URL)

    error = assert_envelope(response, 429, "throttled")
    assert error["details"]["retry_after_s"] > 0
    assert int(response["Retry-After"]) > 0


def test_429_throttled_anonymous(api_client, monkeypatch):
    monkeypatch.setattr(
        AnonRateThrottle,
        "THROTTLE_RATES",
        {"user": "1/minute", "anon": "1/minute", "login": "20/minute"},
    )

    credentials = {"email": "nobody@example.com", "password": "x"}

    assert api_client.post("/api/v1/auth/token/", credentials, format="json").status_code == 401
    assert_envelope(
        api_client.post("/api/v1/auth/token/", credentials, format="json"), 429, "throttled"
    )


def test_500_unexpected_error_is_json_not_html(learner_client, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("apps.accounts.api.user_role_names", explode)

    error = assert_envelope(learner_client.get(ME_URL), 500, "internal_error")
    assert "on fire" not in error["message"]  # internals are logged, not leaked


def test_domain_validation_errors_keep_their_field_paths():
    from apps.content.atom_types import ResponseValidationError
    from apps.core.errors import api_exception_handler

    response = api_exception_handler(
        ResponseValidationError({"response.choice": ["No option 7; valid: 0, 1."]}), {}
    )

    assert response.status_code == 400
    assert response.data["error"]["code"] == "validation_error"
    assert response.data["error"]["details"] == {"response.choice": ["No option 7; valid: 0, 1."]}
