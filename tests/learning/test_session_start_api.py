"""POST /api/v1/sessions/: starting a study session."""

import uuid

import pytest

from tests.curriculum.factories import CourseFactory
from tests.learning.helpers import SESSIONS_URL

pytestmark = pytest.mark.django_db


def test_a_session_in_an_unpublished_or_unknown_course_is_a_documented_404(learner_client, client):
    # Found by tests/e2e/test_api_fuzz.py: the 404 was not in the schema.
    hidden = CourseFactory(is_published=False)

    for course_id in (hidden.pk, uuid.uuid4()):
        response = learner_client.post(SESSIONS_URL, {"course": str(course_id)}, format="json")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "404" in schema["paths"][SESSIONS_URL]["post"]["responses"]
