"""Badges awarded by the services that move their figures, after the commit: an answer (XP,
streak, concepts mastered), a completed session (perfect sessions) and a submitted mock test
(tests passed). Exactly once, also when checks race each other (PostgreSQL)."""

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from apps.achievements.models import BadgeRule, LearnerBadge
from apps.achievements.services import badges_check
from apps.assessment.services import mock_test_start
from apps.learning.models import LearnerDayRollup, XPEvent, XPReason
from tests.assessment.factories import (
    answer_body,
    answers_url,
    blueprint_for,
    exam_course,
    submit_url,
)
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.helpers import (
    ATTEMPTS_URL,
    CORRECT_MCQ,
    SESSIONS_URL,
    WRONG_MCQ,
    attempt_payload,
    session_complete_url,
)

from .helpers import make_badge

pytestmark = pytest.mark.django_db


def earned(learner) -> list[str]:
    return sorted(
        LearnerBadge.objects.filter(learner=learner).values_list("badge__name", flat=True)
    )


def test_an_answer_awards_xp_streak_and_mastery_badges_after_its_commit(
    learner_client, learner, django_capture_on_commit_callbacks
):
    course = CourseFactory(mastery_threshold=0.8)
    atom = make_atom("mcq", concept=ConceptFactory(course=course))
    make_badge(BadgeRule.XP_TOTAL, 30, name="xp")
    make_badge(BadgeRule.STREAK_LENGTH, 1, name="streak")
    make_badge(BadgeRule.CONCEPTS_MASTERED, 1, course=course, name="mastery")

    with django_capture_on_commit_callbacks(execute=True):
        learner_client.post(ATTEMPTS_URL, attempt_payload(atom), format="json")
    assert earned(learner) == ["streak"]  # 10 XP, nothing mastered yet

    for _ in range(4):
        with django_capture_on_commit_callbacks(execute=True):
            learner_client.post(ATTEMPTS_URL, attempt_payload(atom), format="json")

    assert earned(learner) == ["mastery", "streak", "xp"]
    assert LearnerBadge.objects.filter(learner=learner).count() == 3


def test_no_badge_without_the_commit(learner_client, learner, django_capture_on_commit_callbacks):
    make_badge(BadgeRule.XP_TOTAL, 10, name="xp")
    atom = make_atom("mcq")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        learner_client.post(ATTEMPTS_URL, attempt_payload(atom), format="json")

    assert callbacks  # the check waits for the commit, which never comes here
    assert earned(learner) == []


def test_a_completed_perfect_session_awards_the_perfect_sessions_badge(
    learner_client, learner, django_capture_on_commit_callbacks
):
    make_badge(BadgeRule.PERFECT_SESSIONS, 1, name="perfect")
    atom = make_atom("mcq")

    def session_with(*responses) -> None:
        session = learner_client.post(SESSIONS_URL, {"kind": "practice"}, format="json").json()
        for response in responses:
            learner_client.post(
                ATTEMPTS_URL, attempt_payload(atom, response, session=session["id"]), format="json"
            )
        with django_capture_on_commit_callbacks(execute=True):
            learner_client.post(session_complete_url(session["id"]), {}, format="json")

    session_with(CORRECT_MCQ, WRONG_MCQ)
    assert earned(learner) == []
    session_with(CORRECT_MCQ, CORRECT_MCQ)
    assert earned(learner) == ["perfect"]


def test_a_passed_mock_test_awards_the_tests_passed_badge(
    learner_client, learner, django_capture_on_commit_callbacks
):
    exam = exam_course({"Signs": 1})
    blueprint_for(exam, {"Signs": 1}, pass_mark=60)
    make_badge(BadgeRule.MOCK_TESTS_PASSED, 1, name="passed")
    test = mock_test_start(learner=learner, course=exam.course)
    (atom_id,) = exam.atoms["Signs"]
    learner_client.post(answers_url(test.pk), answer_body(atom_id, CORRECT_MCQ), format="json")

    with django_capture_on_commit_callbacks(execute=True):
        result = learner_client.post(submit_url(test.pk), {}, format="json").json()

    assert result["passed"] is True
    assert earned(learner) == ["passed"]


# --- concurrency (PostgreSQL) ----------------------------------------------------------------


def _in_threads(count: int, work) -> list:
    start = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            start.wait(timeout=30)
            results[index] = work(index)
        except Exception as exc:  # reported by the caller's assertion
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.django_db(transaction=True)
def test_racing_checks_award_a_badge_once(learner):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL (set DATABASE_URL)")
    make_badge(BadgeRule.XP_TOTAL, 10, name="xp")
    XPEvent.objects.create(
        learner=learner, amount=10, reason=XPReason.ATTEMPT, occurred_at=timezone.now()
    )

    results = _in_threads(4, lambda n: badges_check(learner=learner))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(len(r) for r in results) == 1  # one check awarded it; the others saw it taken
    assert LearnerBadge.objects.filter(learner=learner).count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_answers_on_the_seventh_day_pay_the_streak_bonus_once(learner):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL (set DATABASE_URL)")
    make_badge(BadgeRule.STREAK_LENGTH, 7, name="week")
    today = timezone.now().astimezone(ZoneInfo(learner.timezone)).date()
    LearnerDayRollup.objects.bulk_create(
        LearnerDayRollup(learner=learner, day=today - timedelta(days=n), timezone=learner.timezone,
                         attempts=1)
        for n in range(1, 7)
    )  # fmt: skip
    atoms = [make_atom("mcq") for _ in range(4)]

    def answer(n: int) -> int:
        client = APIClient()
        client.force_authenticate(learner)
        body = attempt_payload(atoms[n], WRONG_MCQ)
        return client.post(ATTEMPTS_URL, body, format="json").status_code

    results = _in_threads(4, answer)

    assert results == [201] * 4
    assert list(
        XPEvent.objects.filter(learner=learner, reason=XPReason.STREAK_BONUS).values_list(
            "bonus_key", flat=True
        )
    ) == ["streak:7"]
    assert LearnerBadge.objects.filter(learner=learner).count() == 1  # after the commits
