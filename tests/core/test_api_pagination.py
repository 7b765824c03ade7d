"""The API's list pages (limit/offset)."""

import pytest

from tests.content.factories import make_atom

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/v1/courses/", "/api/v1/atoms/"])
def test_a_huge_limit_gets_the_largest_page_not_a_500(learner_client, url):
    # Found by tests/e2e/test_api_fuzz.py: an unbounded limit overflowed the SQL LIMIT
    # (PostgreSQL: "bigint out of range"; SQLite: "datatype mismatch").
    make_atom("mcq")  # in a published course

    response = learner_client.get(f"{url}?limit={10**20}&offset=0")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["count"], len(body["results"]), body["next"]) == (1, 1, None)
