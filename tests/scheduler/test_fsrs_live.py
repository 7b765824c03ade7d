"""The live FSRS path: the course's fitted weights, the learner's calendar days, and SM-2 cards
turned into FSRS memory states (not restarted) when a course switches to FSRS."""

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.core.models import Origin
from apps.learning.models import Attempt
from apps.scheduler.algorithms.calendar_days import elapsed_days
from apps.scheduler.algorithms.fsrs_adapter import (
    fsrs_review,
    fsrs_state_from_sm2,
    memory_state_from_sm2,
)
from apps.scheduler.algorithms.sm2 import SM2State
from apps.scheduler.fitted import fitted_model_record
from apps.scheduler.models import LearnerAtomState
from apps.scheduler.services import SchedulingPolicy, review_states_replay
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.helpers import ATTEMPTS_URL, CORRECT_MCQ, attempt_payload

pytestmark = pytest.mark.django_db

DEFAULT_W = [
    0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796,
    1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542,
]  # fmt: skip


def answer(client, atom, response, at: datetime) -> Attempt:
    result = client.post(
        ATTEMPTS_URL, attempt_payload(atom, response, answered_at=at), format="json"
    )
    assert result.status_code == 201, result.content
    return Attempt.objects.get(pk=result.json()["id"])


def state_of(learner, atom) -> LearnerAtomState:
    return LearnerAtomState.objects.get(learner=learner, atom=atom, archived_in__isnull=True)


def recent(days_ago: float, hour: int = 10) -> datetime:
    from django.utils import timezone

    now = timezone.now().replace(hour=hour, minute=0, second=0, microsecond=0)
    return now - timedelta(days=days_ago)


def test_a_course_with_fitted_parameters_schedules_a_different_interval(learner_client, learner):
    # given two FSRS courses, one with fitted weights in use whose "Easy" first stability is
    # 30 days (the default's is 8.3), one with a fit on too few reviews (not used)
    fitted, unfitted = (
        CourseFactory(default_algorithm="fsrs"),
        CourseFactory(default_algorithm="fsrs"),
    )
    weights = [*DEFAULT_W[:3], 30.0, *DEFAULT_W[4:]]
    fitted_model_record(kind="fsrs", course=fitted, parameters={"w": weights}, samples=5000,
                        minimum_samples=1000)  # fmt: skip
    fitted_model_record(kind="fsrs", course=unfitted, parameters={"w": weights}, samples=10,
                        minimum_samples=1000)  # fmt: skip
    at = recent(1)
    atoms = {
        c: make_atom("flashcard", concept=ConceptFactory(course=c)) for c in (fitted, unfitted)
    }

    # when the learner rates a new card Easy in each
    due = {c: answer(learner_client, atom, {"quality": 5}, at) for c, atom in atoms.items()}

    # then the fitted course schedules it 30 local days out, the other with the defaults (8)
    def days_out(atom):
        return elapsed_days(at, state_of(learner, atom).due_at, learner.timezone)

    assert (days_out(atoms[fitted]), days_out(atoms[unfitted])) == (30, 8)
    assert due[fitted].scheduler_state_after["stability"] == pytest.approx(30.0)


def test_elapsed_time_is_the_learners_calendar_days(api_client):
    # given a learner in Berlin with an FSRS card in review (rated Easy days ago)
    learner = UserFactory(timezone="Europe/Berlin")
    api_client.force_authenticate(learner)
    atom = make_atom(
        "flashcard", concept=ConceptFactory(course=CourseFactory(default_algorithm="fsrs"))
    )
    start = recent(20, hour=9)
    answer(api_client, atom, {"quality": 5}, start)
    # a review at 23:00 local (22:00 UTC in winter, 21:00 in summer)
    evening = recent(5, hour=12).astimezone(_zone("Europe/Berlin")).replace(hour=23)
    before = answer(api_client, atom, {"quality": 4}, evening).scheduler_state_after

    # when the next review comes at 07:00 the next local morning, 8 hours later
    morning = evening + timedelta(hours=8)
    after = answer(api_client, atom, {"quality": 4}, morning).scheduler_state_after

    # then it counts as one day later (a long-term review), not as a same-day review
    calendar, _ = fsrs_review(before, 3, morning, timezone="Europe/Berlin", day_start_hour=4)
    real_time, _ = fsrs_review(before, 3, morning)
    assert after == calendar
    assert calendar["stability"] != pytest.approx(real_time["stability"])

    # and 07:00 then 23:00 of one local day are zero days apart: the same-day formula
    later = morning + timedelta(hours=16)
    same_day = answer(api_client, atom, {"quality": 4}, later).scheduler_state_after
    expected, _ = fsrs_review(after, 3, later, timezone="Europe/Berlin", day_start_hour=4)
    real_time, _ = fsrs_review(after, 3, later)  # real time: 16 h, also 0 whole days
    assert same_day == expected
    assert same_day["stability"] == pytest.approx(real_time["stability"])


def test_a_card_due_in_whole_days_is_due_when_that_local_day_starts():
    # given a card in review, answered Good at 23:00 in Berlin
    zone = _zone("Europe/Berlin")
    first = datetime(2026, 3, 2, 9, tzinfo=zone)
    state, _ = fsrs_review(None, 4, first, timezone="Europe/Berlin")  # Easy: straight to review
    evening = datetime(2026, 3, 9, 23, tzinfo=zone)

    state, due = fsrs_review(state, 3, evening, timezone="Europe/Berlin", day_start_hour=4)

    # then it is due at 04:00 local on the day its interval names, not at 23:00 that day
    local_due = due.astimezone(zone)
    assert (local_due.hour, local_due.minute) == (4, 0)
    assert local_due.date() > evening.date()
    assert state["due"] == due.isoformat()
    # and a learning step (minutes away) keeps its exact time
    _, relearn = fsrs_review(state, 1, evening, timezone="Europe/Berlin", day_start_hour=4)
    assert relearn - evening.astimezone(relearn.tzinfo) < timedelta(hours=1)


def _zone(name):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


@pytest.mark.parametrize(("ease", "interval"), [(2.5, 10), (2.5, 120), (1.3, 4), (3.0, 30)])
def test_memory_state_from_sm2_keeps_about_the_sm2_interval(ease, interval):
    stability, difficulty = memory_state_from_sm2(ease, interval)

    assert stability == pytest.approx(interval, rel=0.05)  # not a restart
    assert 1.0 <= difficulty <= 10.0
    # a harder card (lower ease) is more difficult
    assert memory_state_from_sm2(ease - 0.2 if ease > 1.5 else ease, interval)[1] >= difficulty


def test_a_course_switching_to_fsrs_converts_its_cards(learner_client, learner):
    # given an SM-2 course: one card learnt through attempts (three perfect answers), one
    # migrated v1 review card (ease 2.3, 40-day interval, no attempts), one still learning
    course = CourseFactory(default_algorithm="sm2")
    practised, migrated, learning = (
        make_atom("mcq", concept=ConceptFactory(course=course)) for _ in range(3)
    )
    times = [recent(28), recent(27), recent(21)]
    for at in times:
        answer(learner_client, practised, CORRECT_MCQ, at)
    v1_due, v1_last = recent(-10), recent(29)
    LearnerAtomState.objects.create(
        learner=learner, atom=migrated, origin=Origin.LEGACY, legacy_key="card:7",
        state=SM2State(2.3, 4, 40, v1_due, v1_last).as_dict(), due_at=v1_due,
        last_reviewed_at=v1_last, reviews=4,
    )  # fmt: skip
    LearnerAtomState.objects.create(learner=learner, atom=learning, state=SM2State().as_dict())

    # when the course switches to FSRS and its states are converted
    with pytest.raises(CommandError, match="switch it to FSRS first"):
        call_command("fsrs_convert_states", course=str(course.pk))
    course.default_algorithm = "fsrs"
    course.save()
    out = StringIO()
    call_command("fsrs_convert_states", course=str(course.pk), stdout=out)

    # then the practised card is its attempts replayed through FSRS (learner's calendar)
    replayed = state_of(learner, practised)
    expected, due = review_states_replay(
        [(5, at) for at in times], SchedulingPolicy("fsrs", 0.9, 365, timezone="UTC")
    )
    assert (replayed.state, replayed.due_at) == (expected, due)
    # the v1 card keeps its schedule, with a stability about its 40-day interval
    card = state_of(learner, migrated)
    assert card.state["algorithm"] == "fsrs" and card.due_at == v1_due
    assert card.state["stability"] == pytest.approx(40, rel=0.05)
    assert card.state == fsrs_state_from_sm2(SM2State(2.3, 4, 40, v1_due, v1_last).as_dict())
    # the learning card is left to start afresh at its next review
    assert state_of(learner, learning).state["algorithm"] == "sm2"
    assert "2 cards converted to FSRS (1 replayed" in out.getvalue()

    # and converting again changes nothing
    call_command("fsrs_convert_states", course=str(course.pk), stdout=StringIO())
    assert state_of(learner, migrated).state == card.state


def test_the_course_admin_suggests_the_optimal_retention(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    course = CourseFactory(desired_retention=0.9)
    url = reverse("admin:curriculum_course_change", args=[course.pk])
    assert "No FSRS parameters fitted" in client.get(url).content.decode()

    fitted_model_record(kind="fsrs", course=course, parameters={"w": DEFAULT_W},
                        samples=12400, minimum_samples=1000,
                        metrics={"optimal_retention": 0.87})  # fmt: skip
    fitted_model_record(kind="fsrs", course=course, parameters={"w": DEFAULT_W}, samples=50,
                        minimum_samples=1000, metrics={"optimal_retention": 0.75})  # fmt: skip

    page = client.get(url).content.decode()
    assert (
        "Suggested desired retention from the fitted FSRS parameters: 0.87 (v1, 12,400 reviews)"
        in page
    )
    course.refresh_from_db()
    assert course.desired_retention == 0.9  # a suggestion only
