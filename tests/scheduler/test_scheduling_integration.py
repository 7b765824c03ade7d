"""Attempts through the API drive the course's scheduling algorithm and the concept states."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.curriculum.services import concept_prerequisites_set
from apps.learning.models import Attempt, ProgressSnapshot
from apps.scheduler.algorithms.bkt import bkt_update
from apps.scheduler.algorithms.fsrs_adapter import (
    fsrs_review,
    fsrs_state_from_sm2,
    quality_to_fsrs_rating,
)
from apps.scheduler.algorithms.sm2 import SM2State, sm2_review
from apps.scheduler.models import LearnerAtomState, LearnerConceptState
from apps.scheduler.services import DEFAULT_BKT, DEFAULT_P_KNOWN
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.helpers import (
    ATTEMPTS_URL,
    CORRECT_MCQ,
    RESET_URL,
    WRONG_MCQ,
    attempt_payload,
)

pytestmark = pytest.mark.django_db

NEXT_URL = "/api/v1/scheduler/next/"


def atom_in(course, atom_type="mcq"):
    return make_atom(atom_type, concept=ConceptFactory(course=course))


def answer(client, atom, response, at: datetime | None = None) -> dict:
    result = client.post(
        ATTEMPTS_URL, attempt_payload(atom, response, answered_at=at), format="json"
    )
    assert result.status_code == 201, result.content
    return result.json()


def stored(result: dict) -> Attempt:
    return Attempt.objects.get(pk=result["id"])


def live_atom_state(learner, atom) -> LearnerAtomState:
    return LearnerAtomState.objects.get(learner=learner, atom=atom, archived_in__isnull=True)


def live_concept_state(learner, concept) -> LearnerConceptState:
    return LearnerConceptState.objects.get(
        learner=learner, concept=concept, archived_in__isnull=True
    )


def review_times(days: list[float]) -> list[datetime]:
    """Answer times within the accepted 30-day window, ``days`` after a start 29 days ago."""
    start = timezone.now().replace(microsecond=0) - timedelta(days=29)
    return [start + timedelta(days=d) for d in days]


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- the course's algorithm ----------------------------------------------------------------


def test_an_fsrs_course_schedules_exactly_as_fsrs_itself(learner_client, learner):
    # Given an FSRS course with its own retention and interval cap, and a flashcard in it
    course = CourseFactory(
        default_algorithm="fsrs", desired_retention=0.85, maximum_interval_days=60
    )
    atom = atom_in(course, "flashcard")
    qualities = [4, 3, 5, 1, 4, 5]
    times = review_times([0, 0.01, 1, 4, 4.5, 10])

    # When the learner reviews it with these self-ratings
    results = [
        answer(learner_client, atom, {"quality": q}, at)
        for q, at in zip(qualities, times, strict=True)
    ]

    # Then every stored state and due time is what fsrs_review gives for the mapped ratings,
    # elapsed time counted in the learner's calendar days (UTC, the day starting at 04:00)
    expected_state: dict | None = None
    for quality, at, result in zip(qualities, times, results, strict=True):
        before = expected_state or {}
        expected_state, expected_due = fsrs_review(
            expected_state,
            quality_to_fsrs_rating(quality),
            at,
            desired_retention=0.85,
            maximum_interval=60,
            timezone="UTC",
            day_start_hour=4,
        )
        attempt = stored(result)
        assert attempt.quality == quality
        assert attempt.scheduler_state_before == before
        assert attempt.scheduler_state_after == expected_state
        assert attempt.scheduler_state_after["algorithm"] == "fsrs"
        assert parse(result["next_review_at"]) == expected_due
    state = live_atom_state(learner, atom)
    assert state.state == expected_state
    assert state.due_at == expected_due
    assert (state.reviews, state.lapses) == (6, 1)


def test_an_fsrs_course_uses_its_desired_retention(learner_client, learner):
    # Given two FSRS courses that differ only in desired retention
    strict_course = CourseFactory(default_algorithm="fsrs", desired_retention=0.97)
    lax_course = CourseFactory(default_algorithm="fsrs", desired_retention=0.7)
    strict_atom, lax_atom = atom_in(strict_course, "flashcard"), atom_in(lax_course, "flashcard")
    times = review_times([0, 3])

    # When the same two reviews are given in each
    for atom in (strict_atom, lax_atom):
        for at in times:
            answer(learner_client, atom, {"quality": 4}, at)

    # Then the higher retention brings the next review sooner
    assert live_atom_state(learner, strict_atom).due_at < live_atom_state(learner, lax_atom).due_at


def test_a_leitner_course_moves_the_card_through_the_boxes(learner_client, learner):
    # Given a Leitner course
    course = CourseFactory(default_algorithm="leitner")
    atom = atom_in(course)
    answers = [CORRECT_MCQ, CORRECT_MCQ, CORRECT_MCQ, WRONG_MCQ, CORRECT_MCQ]
    times = review_times([0, 1, 3, 7, 8])

    # When the learner answers right, right, right, wrong, right
    results = [answer(learner_client, atom, r, at) for r, at in zip(answers, times, strict=True)]

    # Then the card climbs to box 4, drops to box 1, climbs to 2; each due after its box's days
    boxes = [stored(r).scheduler_state_after["box"] for r in results]
    assert boxes == [2, 3, 4, 1, 2]
    for result, at, days in zip(results, times, [2, 4, 8, 1, 2], strict=True):
        assert stored(result).scheduler_state_after["algorithm"] == "leitner"
        assert parse(result["next_review_at"]) == at + timedelta(days=days)
    assert live_atom_state(learner, atom).due_at == times[-1] + timedelta(days=2)


def test_an_hlr_course_uses_the_cold_start_intervals(learner_client, learner):
    # Given a half-life regression course (no trained model: the seed's accuracy rule)
    course = CourseFactory(default_algorithm="hlr")
    atom = atom_in(course)
    answers = [CORRECT_MCQ, WRONG_MCQ, CORRECT_MCQ, CORRECT_MCQ, CORRECT_MCQ, CORRECT_MCQ]
    times = review_times([0, 1, 2, 3, 4, 5])

    # When the learner answers right, wrong, then right four times
    results = [answer(learner_client, atom, r, at) for r, at in zip(answers, times, strict=True)]

    # Then the interval follows the running accuracy: ≥ 0.85 → 7 days, ≥ 0.6 → 3, else 1
    # accuracy:     1/1  1/2  2/3  3/4  4/5  5/6
    expected_days = [7, 1, 3, 3, 3, 3]
    for result, at, days in zip(results, times, expected_days, strict=True):
        assert stored(result).scheduler_state_after["algorithm"] == "hlr"
        assert parse(result["next_review_at"]) == at + timedelta(days=days)
    after = stored(results[-1]).scheduler_state_after
    assert (after["correct"], after["reviews"]) == (5, 6)
    # a seventh right answer brings the accuracy to 6/7 ≈ 0.857: back to 7 days
    at = times[-1] + timedelta(days=1)
    assert parse(answer(learner_client, atom, CORRECT_MCQ, at)["next_review_at"]) == at + timedelta(
        days=7
    )


def test_an_sm2_course_gives_the_classic_intervals(learner_client, learner):
    # Given an SM-2 course (the default)
    course = CourseFactory()
    assert course.default_algorithm == "sm2"
    atom = atom_in(course)
    times = review_times([0, 1, 7, 23])

    # When the learner answers perfectly (quality 5) four times
    results = [answer(learner_client, atom, CORRECT_MCQ, at) for at in times]

    # Then the intervals are 1, 6, then previous × easiness (2.8: 16 days; 2.9: 46 days)
    afters = [stored(r).scheduler_state_after for r in results]
    assert [stored(r).quality for r in results] == [5, 5, 5, 5]
    assert [a["interval_days"] for a in afters] == [1, 6, 16, 46]
    assert [a["repetitions"] for a in afters] == [1, 2, 3, 4]
    assert [a["easiness"] for a in afters] == pytest.approx([2.6, 2.7, 2.8, 2.9])
    for result, at, days in zip(results, times, [1, 6, 16, 46], strict=True):
        assert parse(result["next_review_at"]) == at + timedelta(days=days)
    # ...which is sm2_review step by step
    state = SM2State()
    for at, after in zip(times, afters, strict=True):
        state = sm2_review(state, 5, at)
        assert after == state.as_dict()


def test_an_sm2_course_caps_intervals_at_its_maximum(learner_client, learner):
    # Given an SM-2 course whose intervals may not exceed ten days
    course = CourseFactory(maximum_interval_days=10)
    atom = atom_in(course)
    times = review_times([0, 1, 7, 17])

    # When the learner answers perfectly four times
    results = [answer(learner_client, atom, CORRECT_MCQ, at) for at in times]

    # Then 16 and the next interval are cut to 10 days
    intervals = [stored(r).scheduler_state_after["interval_days"] for r in results]
    assert intervals == [1, 6, 10, 10]
    assert live_atom_state(learner, atom).due_at == times[-1] + timedelta(days=10)


def test_a_wrong_answer_resets_sm2_to_one_day(learner_client, learner):
    course = CourseFactory()
    atom = atom_in(course)
    times = review_times([0, 1, 7])

    results = [
        answer(learner_client, atom, r, at)
        for r, at in zip([CORRECT_MCQ, CORRECT_MCQ, WRONG_MCQ], times, strict=True)
    ]

    after = stored(results[-1]).scheduler_state_after
    assert (after["repetitions"], after["interval_days"]) == (0, 1)
    assert live_atom_state(learner, atom).lapses == 1


def test_switching_the_courses_algorithm_converts_sm2_to_fsrs_and_restarts_the_others(
    learner_client, learner
):
    # Given two perfect SM-2 reviews (repetitions 2, interval 6)
    course = CourseFactory(default_algorithm="sm2")
    atom = atom_in(course)
    times = review_times([0, 1, 7, 8, 9])
    for at in times[:2]:
        answer(learner_client, atom, CORRECT_MCQ, at)
    assert live_atom_state(learner, atom).state["repetitions"] == 2

    # When the course switches to FSRS and the learner answers again
    course.default_algorithm = "fsrs"
    course.save()
    fsrs_result = answer(learner_client, atom, CORRECT_MCQ, times[2])

    # Then FSRS does not restart the card: the SM-2 state becomes an FSRS memory state
    # (stability about its 6-day interval), which this review then moves on
    attempt = stored(fsrs_result)
    assert attempt.scheduler_state_before["algorithm"] == "sm2"
    converted = fsrs_state_from_sm2(attempt.scheduler_state_before)
    assert converted["stability"] == pytest.approx(6.0, rel=0.05)
    expected, due = fsrs_review(converted, quality_to_fsrs_rating(5), times[2], timezone="UTC")
    assert expected["stability"] > 6.0
    assert attempt.scheduler_state_after == expected
    assert live_atom_state(learner, atom).due_at == due

    # When it switches to Leitner, the card starts in box 1 and moves to box 2
    course.default_algorithm = "leitner"
    course.save()
    leitner_after = stored(answer(learner_client, atom, CORRECT_MCQ, times[3]))
    assert leitner_after.scheduler_state_before["algorithm"] == "fsrs"
    assert leitner_after.scheduler_state_after["algorithm"] == "leitner"
    assert leitner_after.scheduler_state_after["box"] == 2

    # And back to SM-2: the old SM-2 history is not resumed, it is a first repetition again
    course.default_algorithm = "sm2"
    course.save()
    sm2_after = stored(answer(learner_client, atom, CORRECT_MCQ, times[4])).scheduler_state_after
    assert sm2_after["algorithm"] == "sm2"
    assert (sm2_after["repetitions"], sm2_after["interval_days"]) == (1, 1)
    state = live_atom_state(learner, atom)
    assert (state.reviews, state.due_at) == (5, times[4] + timedelta(days=1))


# --- concept states ------------------------------------------------------------------------


def test_right_answers_raise_p_known_and_theta_wrong_ones_lower_them(learner_client, learner):
    # Given a concept with one mcq and a learner who has never practised it
    course = CourseFactory()
    concept = ConceptFactory(course=course)
    atom = make_atom("mcq", concept=concept)
    assert not LearnerConceptState.objects.filter(learner=learner).exists()

    # When they answer right three times...
    history = []
    for _ in range(3):
        answer(learner_client, atom, CORRECT_MCQ)
        state = live_concept_state(learner, concept)
        history.append((state.p_known, state.theta, state.version, state.attempts))

    # Then P(known) follows BKT from the prior and rises with θ; each attempt is one version
    expected = DEFAULT_P_KNOWN
    for p_known, _theta, _version, _attempts in history:
        expected = bkt_update(expected, True, DEFAULT_BKT)
        assert p_known == pytest.approx(expected)
    assert history[0][0] > DEFAULT_P_KNOWN
    assert history[0][1] > 0.0
    assert [h[0] for h in history] == sorted(h[0] for h in history)
    assert history[0][1] < history[1][1] < history[2][1]
    assert [h[2] for h in history] == [1, 2, 3]
    assert [h[3] for h in history] == [1, 2, 3]

    # When they then answer wrong
    answer(learner_client, atom, WRONG_MCQ)

    # Then both fall, and the version moves on
    state = live_concept_state(learner, concept)
    assert state.p_known < history[-1][0]
    assert state.p_known == pytest.approx(bkt_update(history[-1][0], False, DEFAULT_BKT))
    assert state.theta < history[-1][1]
    assert state.version == 4


def test_a_first_wrong_answer_lowers_p_known_below_the_prior(learner_client, learner):
    concept = ConceptFactory()
    atom = make_atom("mcq", concept=concept)

    answer(learner_client, atom, WRONG_MCQ)

    state = live_concept_state(learner, concept)
    assert state.p_known < DEFAULT_P_KNOWN
    assert state.theta < 0.0
    assert state.theta_se < 1.0
    assert state.version == 1


def test_p_known_and_theta_stay_bounded_over_long_runs(learner_client, learner):
    # Given a concept answered right 25 times, then wrong 25 times
    concept = ConceptFactory()
    atom = make_atom("mcq", concept=concept)
    seen = []
    for response in [CORRECT_MCQ] * 25 + [WRONG_MCQ] * 25:
        answer(learner_client, atom, response)
        state = live_concept_state(learner, concept)
        seen.append((state.p_known, state.theta, state.version))

    # Then P(known) is always a probability and θ within [−6, 6]; versions count every attempt
    assert all(0.0 <= p <= 1.0 for p, _, _ in seen)
    assert all(-6.0 <= theta <= 6.0 for _, theta, _ in seen)
    assert [v for _, _, v in seen] == list(range(1, 51))
    assert seen[24][0] > 0.99  # after the right answers: near certain
    assert seen[-1][0] < 0.2  # after the wrong ones: back down to BKT's learning floor


def test_a_wrong_answer_still_counts_after_a_long_streak_of_right_ones(learner_client, learner):
    # Given 30 right answers in a row (in plain floating point BKT's P(known) would round to
    # exactly 1.0 after 24, where Bayes' rule can never move it again)
    concept = ConceptFactory()
    atom = make_atom("mcq", concept=concept)
    for _ in range(30):
        answer(learner_client, atom, CORRECT_MCQ)
    streak = live_concept_state(learner, concept).p_known
    assert 0.99 < streak < 1.0

    # When the learner then gets it wrong a few times
    lowered = []
    for _ in range(3):
        answer(learner_client, atom, WRONG_MCQ)
        lowered.append(live_concept_state(learner, concept).p_known)

    # Then every wrong answer lowers P(known)
    assert streak > lowered[0] > lowered[1] > lowered[2]


def test_another_learners_answers_leave_my_concept_state_alone(learner_client, learner):
    concept = ConceptFactory()
    atom = make_atom("mcq", concept=concept)
    answer(learner_client, atom, CORRECT_MCQ)
    mine = live_concept_state(learner, concept)

    other = APIClient()
    other.force_authenticate(UserFactory())
    for _ in range(3):
        answer(other, atom, WRONG_MCQ)

    again = live_concept_state(learner, concept)
    assert (again.p_known, again.theta, again.version) == (mine.p_known, mine.theta, 1)


# --- reset ---------------------------------------------------------------------------------


def test_a_reset_makes_everything_new_again(learner_client, learner):
    # Given B requires A; the learner mastered A, practised B, and has reviews falling due
    course = CourseFactory(mastery_threshold=0.8)
    a, b = ConceptFactory(course=course), ConceptFactory(course=course)
    concept_prerequisites_set(concept=b, prerequisites=[a])
    a_atoms = [make_atom("mcq", concept=a) for _ in range(2)]
    b_atoms = [make_atom("mcq", concept=b) for _ in range(2)]
    for atom in [*a_atoms, *a_atoms]:
        answer(learner_client, atom, CORRECT_MCQ)
    for atom in b_atoms:
        answer(learner_client, atom, WRONG_MCQ)
    LearnerAtomState.objects.filter(learner=learner).update(
        due_at=timezone.now() - timedelta(days=2, hours=1)
    )
    before = learner_client.get(NEXT_URL, {"course": str(course.pk)}).json()["items"]
    assert {item["reason"] for item in before} == {"due 2 days ago"}
    assert len(before) == 4

    # When they reset their progress, confirming
    response = learner_client.post(RESET_URL, {"confirm": True}, format="json")

    # Then concept and atom states are set aside in the snapshot, not deleted...
    assert response.status_code == 200
    snapshot = ProgressSnapshot.objects.get(learner=learner)
    concept_states = LearnerConceptState.objects.filter(learner=learner)
    assert concept_states.count() == 2
    assert set(concept_states.values_list("archived_in", flat=True)) == {snapshot.pk}
    atom_states = LearnerAtomState.objects.filter(learner=learner)
    assert atom_states.count() == 4
    assert set(atom_states.values_list("archived_in", flat=True)) == {snapshot.pk}

    # ...and next items treat them as a new learner: A's atoms new, B locked again
    after = learner_client.get(NEXT_URL, {"course": str(course.pk)}).json()["items"]
    assert {item["atom"]["id"] for item in after} == {str(x.pk) for x in a_atoms}
    assert {item["reason"] for item in after} == {"new: first steps in this concept"}

    # And the next answer starts the schedule and P(known) afresh
    result = stored(answer(learner_client, a_atoms[0], CORRECT_MCQ))
    assert result.scheduler_state_before == {}
    assert result.scheduler_state_after["repetitions"] == 1
    fresh = live_concept_state(learner, a)
    assert fresh.p_known == pytest.approx(bkt_update(DEFAULT_P_KNOWN, True, DEFAULT_BKT))
    assert fresh.version == 1


def test_a_reset_without_confirm_keeps_the_states(learner_client, learner):
    concept = ConceptFactory()
    atom = make_atom("mcq", concept=concept)
    answer(learner_client, atom, CORRECT_MCQ)

    response = learner_client.post(RESET_URL, {"confirm": False}, format="json")

    assert response.status_code == 400
    assert live_concept_state(learner, concept).version == 1
    assert live_atom_state(learner, atom).reviews == 1
