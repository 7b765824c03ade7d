"""The scheduler's 404s are documented in the OpenAPI schema (found by tests/e2e/test_api_fuzz.py:
an unknown course or session got a 404 the schema did not list)."""

import uuid

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def documented_statuses(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    def statuses(path: str) -> set[str]:
        return set(schema["paths"][path]["get"]["responses"])

    return statuses


def test_next_items_for_an_unknown_course_is_a_documented_404(learner_client, documented_statuses):
    response = learner_client.get(f"/api/v1/scheduler/next/?course={uuid.uuid4()}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "404" in documented_statuses("/api/v1/scheduler/next/")


def test_placement_for_an_unknown_session_is_a_documented_404(learner_client, documented_statuses):
    response = learner_client.get(f"/api/v1/scheduler/placement/next/?session={uuid.uuid4()}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "404" in documented_statuses("/api/v1/scheduler/placement/next/")
