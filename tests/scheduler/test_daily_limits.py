"""Daily limits (issue 20): next items offers at most the course's new atoms and reviews per
learner day (or the learner's own limits from PATCH /me/), says what is left, and lets a
learner study past them with ?extra=true. Days are the scheduler's: the learner's time zone,
starting at SCHEDULER_DAY_START_HOUR, so a DST day is 23 or 25 hours long."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.curriculum.models import Course
from apps.scheduler.models import LearnerAtomState
from apps.scheduler.selectors import next_items, next_items_today
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.factories import AttemptFactory
from tests.learning.helpers import ATTEMPTS_URL, attempt_payload

pytestmark = pytest.mark.django_db

NEXT_URL = "/api/v1/scheduler/next/"
ME_URL = "/api/v1/me/"


@pytest.fixture(autouse=True)
def _day_start_at_four(settings):
    settings.SCHEDULER_DAY_START_HOUR = 4


def course_of(n_atoms: int, **limits):
    course = CourseFactory(**limits)
    concepts = [ConceptFactory(course=course) for _ in range(2)]
    return course, [make_atom("mcq", concept=concepts[i % 2]) for i in range(n_atoms)]


def get_next(client, course, **params) -> dict:
    response = client.get(NEXT_URL, {"course": str(course.pk), "limit": 50, **params})
    assert response.status_code == 200, response.content
    return response.json()


def offered(body) -> set[str]:
    return {item["atom"]["id"] for item in body["items"]}


def answered_before(learner, atom, at: datetime, times: int = 1):
    """``times`` answers at ``at`` (a day's minutes apart) and the state they leave."""
    for n in range(times):
        AttemptFactory(learner=learner, atom=atom, answered_at=at + timedelta(minutes=n))
    LearnerAtomState.objects.update_or_create(
        learner=learner, atom=atom, archived_in=None,
        defaults={"due_at": at, "last_reviewed_at": at, "reviews": times,
                  "state": {}},
    )  # fmt: skip


# --- the API: what is left, new atoms, reviews, extra ----------------------------------------


def test_new_atoms_stop_at_the_course_limit_and_what_is_left_is_said(learner_client):
    # Given a course of five new atoms that offers two new ones a day
    course, atoms = course_of(5, new_per_day=2)

    # When the learner asks, answers one, asks again, answers another
    first = get_next(learner_client, course)
    learner_client.post(ATTEMPTS_URL, attempt_payload(atoms[0]), format="json")
    second = get_next(learner_client, course)
    learner_client.post(ATTEMPTS_URL, attempt_payload(atoms[1]), format="json")
    third = get_next(learner_client, course)

    # Then two new atoms, then one new (and the one answered, now a review), then none new
    assert first["limits"] | {"day": None} == {"day": None, "new_per_day": 2,
        "reviews_per_day": 200, "new_left": 2, "reviews_left": 200}  # fmt: skip
    assert len(first["items"]) == 2
    assert second["limits"]["new_left"] == 1
    fresh = {str(a.pk) for a in atoms[1:]}
    assert len(offered(second) & fresh) == 1 and str(atoms[0].pk) in offered(second)
    assert third["limits"]["new_left"] == 0
    assert offered(third) == {str(atoms[0].pk), str(atoms[1].pk)}
    # an atom new today answered again is still today's new atom, not a review
    assert third["limits"]["reviews_left"] == 200


def test_reviews_stop_at_the_course_limit(learner_client, learner):
    # Given three atoms first answered yesterday, all due, in a course of one review a day
    course, atoms = course_of(3, new_per_day=0, reviews_per_day=1)
    for atom in atoms:
        answered_before(learner, atom, timezone.now() - timedelta(days=1, hours=1))

    # When the learner asks, answers that review (twice), and asks again
    first = get_next(learner_client, course)
    [review] = first["items"]
    atom = next(a for a in atoms if str(a.pk) == review["atom"]["id"])
    for _ in range(2):
        learner_client.post(ATTEMPTS_URL, attempt_payload(atom), format="json")
    second = get_next(learner_client, course)

    # Then one review was offered, it counted once, and none is left
    assert first["limits"]["reviews_left"] == 1
    assert second["limits"]["reviews_left"] == 0
    assert second["items"] == []


def test_extra_true_studies_past_the_limits_and_still_says_what_is_left(learner_client, learner):
    course, atoms = course_of(4, new_per_day=1, reviews_per_day=0)
    answered_before(learner, atoms[0], timezone.now() - timedelta(days=2))

    within = get_next(learner_client, course)
    extra = get_next(learner_client, course, extra="true")

    assert len(within["items"]) == 1  # one new atom, no review
    assert offered(extra) == {str(a.pk) for a in atoms}
    assert extra["limits"] == within["limits"]
    assert extra["limits"]["new_left"] == 1 and extra["limits"]["reviews_left"] == 0


def test_without_limits_in_the_way_the_picks_are_the_unlimited_ones(learner):
    # Limits that leave room change nothing: the same items as next items without limits
    course, atoms = course_of(12)
    for atom in atoms[:5]:
        answered_before(learner, atom, timezone.now() - timedelta(days=3))

    within = next_items_today(learner=learner, course=course, limit=10)
    unlimited = next_items(learner=learner, course=course, limit=10)

    assert [(i.atom_id, i.reason, i.score) for i in within.items] == [
        (i.atom_id, i.reason, i.score) for i in unlimited
    ]


def test_a_bad_extra_is_a_400_envelope(learner_client):
    course, _ = course_of(1)

    response = learner_client.get(NEXT_URL, {"course": str(course.pk), "extra": "maybe"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "extra" in response.json()["error"]["details"]


# --- the learner's override --------------------------------------------------------------------


def test_the_learners_own_limits_apply_in_every_course_and_are_audited(learner_client, learner):
    # Given two courses with their own limits
    one, _ = course_of(6, new_per_day=5)
    two, _ = course_of(6, new_per_day=4)

    # When the learner sets their own new-atom limit, then clears it
    response = learner_client.patch(ME_URL, {"daily_new_limit": 1}, format="json")
    assert response.status_code == 200
    assert response.json()["daily_new_limit"] == 1
    assert response.json()["daily_review_limit"] is None
    limited = [get_next(learner_client, course) for course in (one, two)]
    cleared = learner_client.patch(ME_URL, {"daily_new_limit": None}, format="json")
    back = get_next(learner_client, one)

    # Then it applies in both courses while set, and the course's comes back after
    for body in limited:
        assert body["limits"]["new_per_day"] == 1 and len(body["items"]) == 1
    assert cleared.json()["daily_new_limit"] is None
    assert back["limits"]["new_per_day"] == 5 and len(back["items"]) == 5
    # through the profile service: each change audited with its before and after
    edits = AuditEvent.objects.filter(action="profile_edit").order_by("created_at")
    assert [e.details for e in edits] == [
        {"daily_new_limit": [None, 1]},
        {"daily_new_limit": [1, None]},
    ]


@pytest.mark.parametrize("value", [-1, 10_000, "many"])
def test_an_override_out_of_range_is_a_400_naming_the_field(learner_client, learner, value):
    response = learner_client.patch(ME_URL, {"daily_review_limit": value}, format="json")

    assert response.status_code == 400
    assert "daily_review_limit" in response.json()["error"]["details"]
    learner.refresh_from_db()
    assert learner.daily_review_limit is None


def test_a_zero_override_offers_no_new_atoms(learner_client):
    course, _ = course_of(3)
    learner_client.patch(ME_URL, {"daily_new_limit": 0}, format="json")

    body = get_next(learner_client, course)

    assert body["items"] == [] and body["limits"]["new_left"] == 0


# --- the learner's day: day start hour, time zone, DST ----------------------------------------


def test_the_day_turns_at_the_day_start_hour_of_the_learners_zone():
    # Given a learner in New York who met two new atoms at 03:30 local time on 10 June
    # (before the day starts at 04:00: they count on 9 June)
    learner = UserFactory(timezone="America/New_York")
    course, atoms = course_of(4, new_per_day=2)
    early = datetime(2026, 6, 10, 7, 30, tzinfo=UTC)  # 03:30 EDT
    for atom in atoms[:2]:
        answered_before(learner, atom, early)

    def new_left(at: datetime) -> tuple:
        limits = next_items_today(learner=learner, course=course, now=at).limits
        return limits.day.isoformat(), limits.new_left

    # Then at 03:50 local the limit is spent, at 04:10 local (a new day) it is whole again,
    # and local midnight (UTC 04:00) is no boundary
    assert new_left(datetime(2026, 6, 10, 7, 50, tzinfo=UTC)) == ("2026-06-09", 0)
    assert new_left(datetime(2026, 6, 10, 8, 10, tzinfo=UTC)) == ("2026-06-10", 2)
    assert new_left(datetime(2026, 6, 10, 3, 50, tzinfo=UTC)) == ("2026-06-09", 0)


def test_the_day_after_a_dst_change_starts_at_the_local_hour():
    # Given a London learner; on 29 March 2026 the clocks go forward (GMT -> BST), so that
    # day starts at 04:00 BST = 03:00 UTC, an hour before the day before it did
    learner = UserFactory(timezone="Europe/London")
    course, atoms = course_of(4, new_per_day=3)
    answered_before(learner, atoms[0], datetime(2026, 3, 29, 2, 30, tzinfo=UTC))  # 03:30 BST
    answered_before(learner, atoms[1], datetime(2026, 3, 29, 3, 30, tzinfo=UTC))  # 04:30 BST

    limits = next_items_today(
        learner=learner, course=course, now=datetime(2026, 3, 29, 10, tzinfo=UTC)
    ).limits

    # Then only the answer after 04:00 BST is the 29th's (a fixed UTC offset would say none)
    assert limits.day.isoformat() == "2026-03-29"
    assert (limits.new_done, limits.new_left) == (1, 2)

    # And in autumn (25 October: BST -> GMT) the day starts at 04:00 GMT = 04:00 UTC
    answered_before(learner, atoms[2], datetime(2026, 10, 25, 3, 30, tzinfo=UTC))  # 03:30 GMT
    autumn = next_items_today(
        learner=learner, course=course, now=datetime(2026, 10, 25, 12, tzinfo=UTC)
    ).limits
    assert (autumn.day.isoformat(), autumn.new_done) == ("2026-10-25", 0)


def test_a_review_counts_once_a_day_and_only_for_atoms_first_met_before_today():
    learner = UserFactory(timezone="Europe/Berlin")
    course, atoms = course_of(3, reviews_per_day=10, new_per_day=10)
    now = datetime(2026, 6, 10, 12, tzinfo=UTC)
    yesterday = now - timedelta(days=1)
    # atoms[0]: met yesterday, answered twice today; atoms[1]: met today, answered twice
    AttemptFactory(learner=learner, atom=atoms[0], answered_at=yesterday)
    answered_before(learner, atoms[0], now - timedelta(hours=2), times=2)
    LearnerAtomState.objects.filter(learner=learner, atom=atoms[0]).update(reviews=3)
    answered_before(learner, atoms[1], now - timedelta(hours=1), times=2)
    # another course's atom answered today counts in neither
    answered_before(learner, make_atom("mcq"), now - timedelta(hours=1))

    limits = next_items_today(learner=learner, course=course, now=now).limits

    assert (limits.new_done, limits.reviews_done) == (1, 1)
    assert (limits.new_left, limits.reviews_left) == (9, 9)


# --- the course's limits in the admin ------------------------------------------------------------


def _course_post(course: Course, **changes) -> dict:
    data = {
        "title": course.title, "slug": course.slug, "description": "", "is_published": "on",
        "language": "", "jurisdiction": "", "default_algorithm": course.default_algorithm,
        "desired_retention": course.desired_retention,
        "maximum_interval_days": course.maximum_interval_days,
        "new_per_day": course.new_per_day, "reviews_per_day": course.reviews_per_day,
        "units-TOTAL_FORMS": "0", "units-INITIAL_FORMS": "0",
    }  # fmt: skip
    return data | changes


def test_the_course_admin_edits_and_validates_the_limits(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    course = CourseFactory()
    url = reverse("admin:curriculum_course_change", args=[course.pk])
    assert (course.new_per_day, course.reviews_per_day) == (20, 200)  # the defaults

    refused = client.post(url, _course_post(course, new_per_day=10_000, reviews_per_day=-1))
    saved = client.post(url, _course_post(course, new_per_day=5, reviews_per_day=50))

    assert refused.status_code == 200  # the form again, with its errors
    errors = refused.context["adminform"].form.errors
    assert set(errors) == {"new_per_day", "reviews_per_day"}
    assert saved.status_code == 302
    course.refresh_from_db()
    assert (course.new_per_day, course.reviews_per_day) == (5, 50)
