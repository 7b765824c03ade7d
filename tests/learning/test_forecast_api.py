"""GET /api/v1/progress/forecast/: atoms due per day of the learner's calendar."""

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.utils import timezone

from apps.content.models import AtomStatus
from apps.content.services import atom_transition
from apps.learning.models import ProgressSnapshot
from apps.learning.study_calendar import due_per_day
from apps.scheduler.models import LearnerAtomState
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.helpers import superuser

pytestmark = pytest.mark.django_db

FORECAST_URL = "/api/v1/progress/forecast/"
NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
# Saturday 7 March 2026, 15:00 in New York (EST, UTC-5). Clocks go forward the next night at
# 02:00, so Sunday 8 March is a 23-hour day.
NOW = datetime(2026, 3, 7, 15, 0, tzinfo=NEW_YORK)


def ny(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK)


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(UTC))
    return NOW


@pytest.fixture
def new_yorker(learner):
    learner.timezone = "America/New_York"
    learner.save(update_fields=["timezone"])
    return learner


@pytest.fixture
def course():
    return CourseFactory()


def due(learner, course, when: datetime | None, **fields) -> LearnerAtomState:
    atom = make_atom("mcq", concept=ConceptFactory(course=course))
    return LearnerAtomState.objects.create(learner=learner, atom=atom, due_at=when, **fields)


def forecast(client, course, **params):
    return client.get(FORECAST_URL, {"course": str(course.pk), **params})


def test_the_forecast_adds_up_to_the_due_atoms_on_the_learners_days(
    learner_client, new_yorker, course, frozen_now
):
    # Given atoms due around a New Yorker's days (which start at 04:00, as the scheduler's)
    for when in (
        ny(1, 9, month=3),  # a week overdue: counts on today
        ny(7, 14),  # due an hour ago: overdue too
        ny(7, 23, 30),  # tonight: already 8 March in UTC, still today here
        ny(8, 3, 30),  # after midnight but before 04:00 (and after the DST jump): today
        ny(8, 4, 0),  # 04:00 sharp: tomorrow
        ny(9, 12),  # the day after
        ny(13, 23),  # the last day of a 7-day window
        ny(14, 5),  # the first day after it
        ny(30, 12),  # further out
    ):
        due(new_yorker, course, when)
    due(new_yorker, course, None)  # never scheduled: never due

    # When they ask for a week
    response = forecast(learner_client, course, days=7)

    # Then each local day has its atoms, today first, and the week adds up
    assert response.status_code == 200
    body = response.json()
    assert [(day["date"], day["due"]) for day in body["days"]] == [
        ("2026-03-07", 4),
        ("2026-03-08", 1),
        ("2026-03-09", 1),
        ("2026-03-10", 0),
        ("2026-03-11", 0),
        ("2026-03-12", 0),
        ("2026-03-13", 1),
    ]
    assert body["today"] == "2026-03-07"
    assert (body["total"], body["overdue"]) == (7, 2)
    assert (body["timezone"], body["day_start_hour"]) == ("America/New_York", 4)
    # and the total is the learner's atoms due before the window ends (14 March, 04:00 EDT)
    window_end = ny(14, 4)
    assert (
        body["total"]
        == LearnerAtomState.objects.filter(learner=new_yorker, due_at__lt=window_end).count()
    )
    # a month's window holds them all
    assert forecast(learner_client, course, days=30).json()["total"] == 9


def test_the_same_atoms_fall_on_other_days_for_a_learner_elsewhere(course, frozen_now):
    # Given due times that are today and tomorrow in New York, for a learner in Tokyo, where
    # it is already Sunday 05:00 (JST, UTC+9) at NOW
    tokyo = UserFactory(timezone="Asia/Tokyo")
    for when in (ny(7, 13, 59), ny(7, 23, 30), ny(8, 16)):
        due(tokyo, course, when)

    body = forecast(_client(tokyo), course, days=2).json()

    # Then the days are Tokyo's: today is the 8th
    assert [(d["date"], d["due"]) for d in body["days"]] == [
        ("2026-03-08", 2),  # 03:59 Sunday (Saturday's day: overdue, on today), 13:30 Sunday
        ("2026-03-09", 1),  # 16:00 Sunday in New York is 05:00 Monday in Tokyo
    ]
    assert body["overdue"] == 1


def test_only_the_learners_live_states_of_published_atoms_of_the_course_count(
    learner_client, new_yorker, course, frozen_now
):
    # Given one atom due today in the course, and due atoms the forecast must leave out
    due(new_yorker, course, ny(7, 10))
    due(new_yorker, CourseFactory(), ny(7, 10))  # another course
    due(UserFactory(), course, ny(7, 10))  # another learner
    archived = due(new_yorker, course, ny(7, 10))  # an atom archived since
    atom_transition(atom=archived.atom, action="archive", by=superuser(), source="api")
    assert archived.atom.status == AtomStatus.ARCHIVED
    snapshot = ProgressSnapshot.objects.create(learner=new_yorker)
    due(new_yorker, course, ny(7, 10), archived_in=snapshot)  # set aside by a reset

    body = forecast(learner_client, course).json()

    assert len(body["days"]) == 30  # the default window
    assert body["days"][0] == {"date": "2026-03-07", "due": 1}
    assert body["total"] == body["overdue"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"days": 0}, "days"),
        ({"days": 366}, "days"),
        ({"days": "week"}, "days"),
        ({"course": "not-a-uuid"}, "course"),
    ],
)
def test_bad_queries_are_400_with_the_error_envelope(learner_client, course, params, field):
    response = learner_client.get(FORECAST_URL, {"course": str(course.pk), **params})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]


def test_the_course_is_required_and_must_be_published(learner_client):
    missing = learner_client.get(FORECAST_URL)
    hidden = forecast(learner_client, CourseFactory(is_published=False))

    assert missing.status_code == 400
    assert "course" in missing.json()["error"]["details"]
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "not_found"


def test_a_full_year_is_the_longest_window(learner_client, course):
    body = forecast(learner_client, course, days=365).json()
    assert len(body["days"]) == 365
    assert body["total"] == 0


def test_due_per_day_on_a_dst_day():
    # 8 March in New York runs from 04:00 EST to 04:00 EDT: 23 hours
    ends = [ny(8, 3, 59), ny(8, 4, 0), ny(9, 3, 59), ny(9, 4, 0)]
    epochs = np.array([moment.timestamp() for moment in ends])

    counts = due_per_day(
        epochs, today=NOW.date(), days=3, timezone="America/New_York", day_start_hour=4
    )

    assert counts == [1, 2, 1]


def _client(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client
