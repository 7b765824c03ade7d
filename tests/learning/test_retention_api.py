"""GET /api/v1/progress/retention/: true retention per month against the course's target."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.learning.models import Attempt, ProgressSnapshot
from apps.learning.study_calendar import retention_by_month
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.factories import AttemptFactory

pytestmark = pytest.mark.django_db

RETENTION_URL = "/api/v1/progress/retention/"
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=NEW_YORK)


def ny(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=NEW_YORK)


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(ZoneInfo("UTC")))


@pytest.fixture
def history(learner):
    """A New Yorker's answers on two atoms of a course whose target is 0.85 (days start at
    04:00): the hand count is in the test."""
    learner.timezone = "America/New_York"
    learner.save(update_fields=["timezone"])
    course = CourseFactory(desired_retention=0.85, default_algorithm="fsrs")
    x, y = (make_atom("mcq", concept=ConceptFactory(course=course)) for _ in range(2))
    other_course_atom = make_atom("mcq")
    for atom, when, correct in [
        (x, ny(1, 10, 10), True),  # X first seen: not a review
        (x, ny(1, 10, 18), False),  # the same day: not a review
        (x, ny(1, 12, 9), True),  # review, January: recalled
        (x, ny(2, 1, 2), False),  # 02:00 on 1 Feb is still 31 Jan's day: January, forgotten
        (x, ny(2, 3, 9), True),  # February, recalled
        (x, ny(2, 10, 9), True),  # February, recalled
        (y, ny(1, 31, 23), True),  # Y first seen (31 Jan)
        (y, ny(2, 1, 3), True),  # 03:00 on 1 Feb: the same day as its first answer
        (y, ny(2, 1, 10), False),  # 1 Feb proper: February, forgotten
        (other_course_atom, ny(1, 5, 9), True),
        (other_course_atom, ny(1, 20, 9), False),  # another course's review
    ]:
        AttemptFactory(learner=learner, atom=atom, answered_at=when, correct=correct)
    # a reset's answers and another learner's do not count
    snapshot = ProgressSnapshot.objects.create(learner=learner)
    AttemptFactory(learner=learner, atom=x, answered_at=ny(3, 2, 9), correct=False,
                   archived_in=snapshot)  # fmt: skip
    AttemptFactory(learner=UserFactory(), atom=x, answered_at=ny(3, 2, 9), correct=False)
    return course


def test_retention_per_month_matches_the_hand_count(learner_client, history):
    # When the learner asks for the last three months
    response = learner_client.get(RETENTION_URL, {"course": str(history.pk), "months": 3})

    # Then January has 2 reviews (1 recalled), February 3 (2 recalled), March none yet
    assert response.status_code == 200
    assert response.json() == {
        "course": str(history.pk),
        "timezone": "America/New_York",
        "day_start_hour": 4,
        "target_retention": 0.85,
        "algorithm": "fsrs",
        "overall": {"reviews": 5, "recalled": 3, "retention": 0.6},
        "months": [
            {"month": "2026-01", "reviews": 2, "recalled": 1, "retention": 0.5},
            {"month": "2026-02", "reviews": 3, "recalled": 2, "retention": 0.6667},
            {"month": "2026-03", "reviews": 0, "recalled": 0, "retention": None},
        ],
    }


def test_a_shorter_window_still_knows_what_was_seen_before_it(learner_client, history):
    # February's reviews of X are reviews because X was first answered in January
    body = learner_client.get(RETENTION_URL, {"course": str(history.pk), "months": 2}).json()

    assert [row["month"] for row in body["months"]] == ["2026-02", "2026-03"]
    assert body["months"][0] == {"month": "2026-02", "reviews": 3, "recalled": 2,
                                 "retention": 0.6667}  # fmt: skip
    assert body["overall"] == {"reviews": 3, "recalled": 2, "retention": 0.6667}


def test_the_default_window_is_a_year_of_months(learner_client, history):
    body = learner_client.get(RETENTION_URL, {"course": str(history.pk)}).json()

    assert [row["month"] for row in body["months"]][0::11] == ["2025-04", "2026-03"]
    assert body["overall"]["reviews"] == 5
    assert Attempt.objects.count() == 13  # nothing written by the read


@pytest.mark.parametrize("months", [0, 121, "a"])
def test_bad_months_are_400_with_the_error_envelope(learner_client, history, months):
    response = learner_client.get(RETENTION_URL, {"course": str(history.pk), "months": months})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "months" in response.json()["error"]["details"]


def test_an_unknown_course_is_404(learner_client):
    response = learner_client.get(RETENTION_URL, {"course": str(CourseFactory.build().pk)})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_review_rule_on_plain_rows():
    first = {"x": ny(1, 10, 10)}
    answers = [("x", ny(1, 10, 10), True), ("x", ny(1, 11, 3), False), ("x", ny(1, 11, 4), True)]

    tallies = retention_by_month(answers, first, timezone="America/New_York", day_start_hour=4)

    # 03:00 on the 11th is the 10th's day (not a review); 04:00 on the 11th is
    assert tallies == {(2026, 1): (1, 1)}
