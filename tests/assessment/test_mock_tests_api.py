"""Mock tests through the API: drawing by the blueprint, answering without a verdict,
marking at the pass mark, expiry, replays, attempts, and whose tests are whose."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.assessment.models import MockTest, MockTestItem
from apps.assessment.services import mock_test_start
from apps.assessment.tasks import mock_tests_expire_task
from apps.content.models import LearningAtom
from apps.learning.models import Attempt, SessionKind, StudySession
from apps.scheduler.models import LearnerAtomState
from tests.accounts.factories import UserFactory
from tests.curriculum.factories import CourseFactory

from .factories import (
    MOCK_TESTS_URL,
    RIGHT,
    WRONG,
    answer_body,
    answers_url,
    blueprint_for,
    client_for,
    detail_url,
    exam_course,
    keys_anywhere,
    submit_url,
)

pytestmark = pytest.mark.django_db

# What would give a verdict or an answer away before the end.
REVEALING_KEYS = {"correct", "expected", "feedback", "misconception", "is_correct", "score"}


def start(client, course) -> dict:
    response = client.post(MOCK_TESTS_URL, {"course": str(course.pk)}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def units_of(exam, body) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in body["items"]:
        unit = exam.unit_of(item["id"])
        counts[unit] = counts.get(unit, 0) + 1
    return counts


# --- drawing --------------------------------------------------------------------------------


def test_a_test_draws_the_blueprints_number_of_items_per_unit_pinned_to_their_revisions():
    # given a blueprint of 2 Alertness and 3 Hazard items, from pools of 4 and 6
    exam = exam_course({"Alertness": 4, "Hazards": 6})
    blueprint_for(exam, {"Alertness": 2, "Hazards": 3}, minutes=57, pass_mark=86)
    learner = UserFactory()

    # when the learner starts a test
    before = timezone.now()
    body = start(client_for(learner), exam.course)

    # then it has exactly that many items per unit, distinct, rendered learner-safe
    assert units_of(exam, body) == {"Alertness": 2, "Hazards": 3}
    assert len({item["id"] for item in body["items"]}) == 5
    assert body["time_limit_s"] == 57 * 60 and body["pass_mark"] == 86
    assert body["status"] == "in_progress" and body["result"] is None
    expires_at = timezone.datetime.fromisoformat(body["expires_at"])
    assert timedelta(minutes=57) <= expires_at - before < timedelta(minutes=58)
    assert all(item["prompt"] and item["options"] for item in body["items"])
    assert not keys_anywhere(body["items"]) & REVEALING_KEYS
    # and each item is pinned to the revision published when it was drawn
    for item in MockTestItem.objects.filter(test_id=body["id"]).select_related("atom"):
        assert item.revision_id == item.atom.published_revision_id
    # and the test is a study session of kind mock_test
    assert MockTest.objects.get(pk=body["id"]).session.kind == SessionKind.MOCK_TEST


def test_a_pool_too_small_for_the_blueprint_is_a_409_naming_the_unit_never_a_short_test():
    # given a blueprint asking for 3 Hazard items where only 2 are published
    exam = exam_course({"Alertness": 4, "Hazards": 2})
    blueprint_for(exam, {"Alertness": 2, "Hazards": 3})
    learner = UserFactory()

    # when the learner starts a test
    response = client_for(learner).post(
        MOCK_TESTS_URL, {"course": str(exam.course.pk)}, format="json"
    )

    # then it is refused, naming the unit and the counts, and nothing was drawn
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "blueprint_pool_too_small"
    assert "Hazards needs 3 items, 2 available" in error["message"]
    assert error["details"]["sections"] == [
        {
            "unit": str(exam.units["Hazards"].pk),
            "concept": None,
            "title": "Hazards",
            "needed": 3,
            "available": 2,
        }
    ]
    assert not MockTest.objects.exists()
    assert not StudySession.objects.filter(learner=learner).exists()


def test_a_course_without_a_blueprint_is_a_clear_409_and_an_unpublished_course_a_404():
    learner = UserFactory()
    client = client_for(learner)

    bare = client.post(MOCK_TESTS_URL, {"course": str(CourseFactory().pk)}, format="json")
    hidden = CourseFactory(is_published=False)
    unpublished = client.post(MOCK_TESTS_URL, {"course": str(hidden.pk)}, format="json")

    assert bare.status_code == 409
    assert bare.json()["error"]["code"] == "blueprint_missing"
    assert "has no mock test yet" in bare.json()["error"]["message"]
    assert unpublished.status_code == 404
    assert unpublished.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("pool", "overlap"),
    [(4, 0), (3, 1)],  # room for a fresh test; one atom short of it
    ids=["pool-allows-a-fresh-test", "pool-one-short"],
)
def test_the_next_test_avoids_the_last_tests_atoms_where_the_pool_allows(pool, overlap):
    # given a learner who sat a 2-item test from a pool of ``pool`` atoms
    exam = exam_course({"Alertness": pool})
    blueprint_for(exam, {"Alertness": 2})
    learner = UserFactory()
    client = client_for(learner)
    first = start(client, exam.course)
    client.post(submit_url(first["id"]))

    # when they start the next one
    second = start(client, exam.course)

    # then it repeats the last test's atoms only as far as the pool forces it to
    first_atoms = {item["id"] for item in first["items"]}
    second_atoms = {item["id"] for item in second["items"]}
    assert len(second_atoms) == 2
    assert len(first_atoms & second_atoms) == overlap


def test_a_second_start_while_a_test_is_open_is_refused_and_an_expired_one_is_marked_first():
    exam = exam_course({"Alertness": 4})
    blueprint_for(exam, {"Alertness": 2}, minutes=30)
    learner = UserFactory()
    client = client_for(learner)
    open_test = start(client, exam.course)

    again = client.post(MOCK_TESTS_URL, {"course": str(exam.course.pk)}, format="json")

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "test_in_progress"
    assert again.json()["error"]["details"]["test"] == open_test["id"]

    # once its time is up, starting a new test marks the old one (the next touch)
    MockTest.objects.filter(pk=open_test["id"]).update(
        started_at=timezone.now() - timedelta(hours=2),
        expires_at=timezone.now() - timedelta(hours=1),
    )
    start(client, exam.course)
    old = MockTest.objects.get(pk=open_test["id"])
    assert old.submitted_at is not None and old.auto_submitted


# --- answering --------------------------------------------------------------------------------


def test_answers_before_submit_reveal_nothing():
    exam = exam_course({"Alertness": 3})
    blueprint_for(exam, {"Alertness": 3})
    learner = UserFactory()
    client = client_for(learner)
    test = start(client, exam.course)
    [first, second, _] = [item["id"] for item in test["items"]]

    right = client.post(answers_url(test["id"]), answer_body(first, RIGHT), format="json")
    wrong = client.post(answers_url(test["id"]), answer_body(second, WRONG), format="json")
    detail = client.get(detail_url(test["id"]))
    listed = client.get(MOCK_TESTS_URL)

    # the replies to a right and a wrong answer look the same: recorded, nothing more
    assert right.status_code == wrong.status_code == 201
    assert set(right.json()) == {"test", "atom", "client_attempt_id", "response", "answered_at"}
    assert set(wrong.json()) == set(right.json())
    # and neither the test nor the list shows a verdict, a score or a right answer
    assert detail.json()["result"] is None
    assert detail.json()["answered"] == [first, second]
    assert not keys_anywhere(detail.json()["items"]) & REVEALING_KEYS
    [row] = listed.json()["results"]
    assert row["score"] is None and row["passed"] is None and row["status"] == "in_progress"


def test_a_replayed_answer_is_a_200_with_the_same_body_and_another_answer_with_its_id_a_409():
    exam = exam_course({"Alertness": 2})
    blueprint_for(exam, {"Alertness": 2})
    learner = UserFactory()
    client = client_for(learner)
    test = start(client, exam.course)
    [first, second] = [item["id"] for item in test["items"]]
    body = answer_body(first, RIGHT)

    created = client.post(answers_url(test["id"]), body, format="json")
    replayed = client.post(answers_url(test["id"]), body, format="json")
    changed = client.post(answers_url(test["id"]), {**body, "response": WRONG}, format="json")
    elsewhere = client.post(answers_url(test["id"]), {**body, "atom": second}, format="json")
    again = client.post(answers_url(test["id"]), answer_body(first, WRONG), format="json")

    assert created.status_code == 201
    assert replayed.status_code == 200 and replayed.json() == created.json()
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "conflict"
    assert elsewhere.status_code == 409 and elsewhere.json()["error"]["code"] == "conflict"
    # answers are final: a second answer to the same item (a new id) is refused
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "item_already_answered"
    assert Attempt.objects.filter(learner=learner).count() == 1


def test_a_response_that_does_not_fit_the_item_is_a_400_and_records_nothing():
    exam = exam_course({"Alertness": 1})
    blueprint_for(exam, {"Alertness": 1})
    learner = UserFactory()
    client = client_for(learner)
    test = start(client, exam.course)
    [item] = [item["id"] for item in test["items"]]
    outsider = exam_course({"Other": 1}).atoms["Other"].pop()

    misfit = client.post(answers_url(test["id"]), answer_body(item, {"choice": 9}), format="json")
    not_an_item = client.post(answers_url(test["id"]), answer_body(outsider, RIGHT), format="json")

    assert misfit.status_code == 400
    assert "response.choice" in misfit.json()["error"]["details"]
    assert not_an_item.status_code == 400
    assert "atom" in not_an_item.json()["error"]["details"]
    assert not Attempt.objects.filter(learner=learner).exists()
    assert client.get(detail_url(test["id"])).json()["answered"] == []


def test_answers_are_attempts_of_the_mock_test_session_and_move_the_scheduler():
    exam = exam_course({"Alertness": 2})
    blueprint_for(exam, {"Alertness": 2})
    learner = UserFactory()
    client = client_for(learner)
    test = start(client, exam.course)
    [first, second] = [item["id"] for item in test["items"]]

    client.post(answers_url(test["id"]), answer_body(first, RIGHT), format="json")
    client.post(answers_url(test["id"]), answer_body(second, WRONG), format="json")

    attempts = Attempt.objects.filter(learner=learner).select_related("session")
    assert {(str(a.atom_id), a.correct, a.session.kind) for a in attempts} == {
        (first, True, SessionKind.MOCK_TEST),
        (second, False, SessionKind.MOCK_TEST),
    }
    pinned = dict(MockTestItem.objects.filter(test_id=test["id"]).values_list("atom", "revision"))
    assert all(a.revision_id == pinned[a.atom_id] for a in attempts)
    states = LearnerAtomState.objects.filter(learner=learner)
    assert {str(s.atom_id) for s in states} == {first, second}
    assert all(s.reviews == 1 and s.due_at for s in states)
    progress = client.get("/api/v1/progress/").json()
    assert progress["attempts"] == 2 and progress["correct"] == 1


# --- marking ----------------------------------------------------------------------------------


def _sit(client, exam, right_answers: int) -> dict:
    """Start a 5-item test, answer ``right_answers`` right and one wrong, submit."""
    test = start(client, exam.course)
    atoms = [item["id"] for item in test["items"]]
    for atom in atoms[:right_answers]:
        client.post(answers_url(test["id"]), answer_body(atom, RIGHT), format="json")
    client.post(answers_url(test["id"]), answer_body(atoms[right_answers], WRONG), format="json")
    response = client.post(submit_url(test["id"]))
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(
    ("pass_mark", "passed"),
    [(60, True), (61, False)],  # 3 of 5 is exactly 60%: equal passes, above it fails
    ids=["score-equal-to-the-pass-mark-passes", "score-below-the-pass-mark-fails"],
)
def test_submit_scores_and_passes_at_the_pass_mark_exactly(pass_mark, passed):
    # given a 5-item test (2 Alertness, 3 Hazards) with a pass mark of ``pass_mark``
    exam = exam_course({"Alertness": 2, "Hazards": 3})
    blueprint_for(exam, {"Alertness": 2, "Hazards": 3}, pass_mark=pass_mark)
    client = client_for(UserFactory())

    # when the learner gets 3 right, 1 wrong and leaves 1 unanswered, then submits
    result = _sit(client, exam, right_answers=3)

    # then 3 of 5 is 60%, and the pass mark decides
    assert result["score"] == 60.0 and result["correct"] == 3 and result["total"] == 5
    assert result["passed"] is passed and result["pass_mark"] == pass_mark
    assert result["auto_submitted"] is False
    by_unit = {row["title"]: row for row in result["by_unit"]}
    assert {title: row["total"] for title, row in by_unit.items()} == {"Alertness": 2, "Hazards": 3}
    assert sum(row["correct"] for row in result["by_unit"]) == 3
    assert by_unit["Hazards"]["unit"] == str(exam.units["Hazards"].pk)
    # and the review shows each answer against the right one
    review = result["review"]
    assert [row["correct"] for row in review] == [True, True, True, False, False]
    assert all(row["expected"] == RIGHT for row in review)
    assert [row["response"] for row in review] == [RIGHT, RIGHT, RIGHT, WRONG, None]
    assert review[4]["answered"] is False


def test_the_review_names_the_misconception_of_a_wrong_option():
    from apps.content.atom_types import OptionData
    from tests.content.factories import make_atom
    from tests.curriculum.factories import MisconceptionFactory

    exam = exam_course({"Alertness": 0})
    concept = exam.concepts["Alertness"]
    belief = MisconceptionFactory(concept=concept, name="Amber means speed up")
    atom = make_atom(
        "mcq",
        concept=concept,
        options=(
            OptionData(0, "Speed up", False, "No.", belief.pk),
            OptionData(1, "Stop if safe", True),
        ),
    )
    blueprint_for(exam, {"Alertness": 1})
    client = client_for(UserFactory())
    test = start(client, exam.course)
    client.post(answers_url(test["id"]), answer_body(atom.pk, {"choice": 0}), format="json")

    [row] = client.post(submit_url(test["id"])).json()["review"]

    assert row["correct"] is False and row["expected"] == {"choice": 1}
    assert row["misconception"]["name"] == "Amber means speed up"


def test_submitting_twice_returns_the_same_result_and_a_submitted_test_takes_no_answers():
    exam = exam_course({"Alertness": 5})
    blueprint_for(exam, {"Alertness": 5})
    client = client_for(UserFactory())
    first = _sit(client, exam, right_answers=2)
    test = MockTest.objects.get(pk=first["id"])

    second = client.post(submit_url(test.pk))
    late = client.post(
        answers_url(test.pk),
        answer_body(test.items.get(position=4).atom_id, RIGHT),
        format="json",
    )

    assert second.status_code == 200 and second.json() == first
    assert late.status_code == 409 and late.json()["error"]["code"] == "test_submitted"
    listed = client.get(MOCK_TESTS_URL).json()["results"][0]
    assert listed["status"] == "submitted" and listed["score"] == 40.0
    assert listed["passed"] is False


# --- time -----------------------------------------------------------------------------------


def _expired_test(exam, learner, answered: int = 1) -> MockTest:
    """A 30-minute test started two hours ago, with ``answered`` items answered right."""
    started = timezone.now() - timedelta(hours=2)
    test = mock_test_start(learner=learner, course=exam.course, now=started)
    from apps.assessment.services import mock_test_answer

    for item in test.items.order_by("position")[:answered]:
        mock_test_answer(
            test=test,
            atom_id=item.atom_id,
            response=RIGHT,
            client_attempt_id=uuid.uuid4(),
            now=started + timedelta(minutes=5),
        )
    return test


def test_an_answer_after_expiry_is_a_409_test_expired_and_the_test_is_marked_at_once():
    exam = exam_course({"Alertness": 2})
    blueprint_for(exam, {"Alertness": 2}, minutes=30, pass_mark=50)
    learner = UserFactory()
    client = client_for(learner)
    test = _expired_test(exam, learner, answered=1)
    unanswered = test.items.get(position=1).atom_id

    # when the learner answers after the time is up (the beat has not run)
    late = client.post(answers_url(test.pk), answer_body(unanswered, RIGHT), format="json")

    # then the answer is refused in the error envelope, and the test is marked with what it had
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "test_expired"
    assert late.json()["error"]["details"]["test"] == str(test.pk)
    test.refresh_from_db()
    assert test.submitted_at is not None and test.auto_submitted
    assert (test.correct_count, test.passed) == (1, True)
    assert test.session.completed_at is not None
    assert Attempt.objects.filter(learner=learner).count() == 1
    result = client.post(submit_url(test.pk)).json()
    assert result["score"] == 50.0 and result["auto_submitted"] is True


def test_a_replay_of_an_answer_given_in_time_is_still_a_200_after_expiry():
    exam = exam_course({"Alertness": 1})
    blueprint_for(exam, {"Alertness": 1}, minutes=30)
    learner = UserFactory()
    started = timezone.now() - timedelta(hours=2)
    test = mock_test_start(learner=learner, course=exam.course, now=started)
    from apps.assessment.services import mock_test_answer

    body = answer_body(test.items.get().atom_id, RIGHT)
    mock_test_answer(
        test=test,
        atom_id=uuid.UUID(body["atom"]),
        response=RIGHT,
        client_attempt_id=uuid.UUID(body["client_attempt_id"]),
        now=started + timedelta(minutes=1),
    )

    replayed = client_for(learner).post(answers_url(test.pk), body, format="json")

    assert replayed.status_code == 200


def test_the_beat_task_marks_expired_tests_once_and_leaves_running_ones():
    exam = exam_course({"Alertness": 4})
    blueprint_for(exam, {"Alertness": 2}, minutes=30, pass_mark=50)
    expired = _expired_test(exam, UserFactory(), answered=1)
    running = mock_test_start(learner=UserFactory(), course=exam.course)

    mock_tests_expire_task()
    expired.refresh_from_db()
    marked_at = expired.submitted_at
    mock_tests_expire_task()  # a redelivery changes nothing

    expired.refresh_from_db()
    running.refresh_from_db()
    assert expired.auto_submitted and (expired.correct_count, expired.passed) == (1, True)
    assert expired.submitted_at == marked_at
    assert running.submitted_at is None


def test_reading_an_expired_test_shows_its_result_without_writing():
    exam = exam_course({"Alertness": 2})
    blueprint_for(exam, {"Alertness": 2}, minutes=30, pass_mark=50)
    learner = UserFactory()
    test = _expired_test(exam, learner, answered=1)

    body = client_for(learner).get(detail_url(test.pk)).json()

    assert body["status"] == "expired"
    assert body["result"]["score"] == 50.0 and body["result"]["passed"] is True
    test.refresh_from_db()
    assert test.submitted_at is None  # the GET only read; the answer, submit or beat marks


# --- whose tests ------------------------------------------------------------------------------


def test_another_learner_gets_404_for_every_door_of_a_test_and_lists_only_their_own():
    exam = exam_course({"Alertness": 2})
    blueprint_for(exam, {"Alertness": 2})
    owner, other = UserFactory(), UserFactory()
    test = start(client_for(owner), exam.course)
    intruder = client_for(other)
    atom = test["items"][0]["id"]

    responses = [
        intruder.get(detail_url(test["id"])),
        intruder.post(answers_url(test["id"]), answer_body(atom, RIGHT), format="json"),
        intruder.post(submit_url(test["id"])),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert all(r.json()["error"]["code"] == "not_found" for r in responses)
    assert intruder.get(MOCK_TESTS_URL).json()["count"] == 0
    assert MockTest.objects.get(pk=test["id"]).submitted_at is None
    assert not MockTestItem.objects.filter(test_id=test["id"], answered_at__isnull=False).exists()


def test_the_list_is_paginated_newest_first():
    exam = exam_course({"Alertness": 2})
    blueprint_for(exam, {"Alertness": 1})
    learner = UserFactory()
    client = client_for(learner)
    ids = []
    for _ in range(3):
        ids.append(start(client, exam.course)["id"])
        client.post(submit_url(ids[-1]))

    page = client.get(MOCK_TESTS_URL, {"limit": 2}).json()

    assert page["count"] == 3 and page["next"] and page["previous"] is None
    assert [row["id"] for row in page["results"]] == ids[::-1][:2]


# --- a re-published atom -----------------------------------------------------------------------


def test_an_atom_republished_during_the_test_is_marked_against_the_revision_shown():
    from apps.content.atom_types import OptionData
    from apps.content.services import atom_update
    from tests.content.factories import republish

    exam = exam_course({"Alertness": 1})
    blueprint_for(exam, {"Alertness": 1})
    learner = UserFactory()
    client = client_for(learner)
    test = start(client, exam.course)
    [atom_id] = [item["id"] for item in test["items"]]
    # the author swaps which option is right and publishes that while the test runs
    atom = LearningAtom.objects.get(pk=atom_id)
    atom_update(
        atom=atom,
        by=None,
        options=[
            OptionData(0, "UDP", True, "Now right."),
            OptionData(1, "TCP", False),
            OptionData(2, "ICMP", False),
        ],
    )
    republish(LearningAtom.objects.get(pk=atom_id))

    client.post(answers_url(test["id"]), answer_body(atom_id, RIGHT), format="json")
    result = client.post(submit_url(test["id"])).json()

    # the learner answered the question they were shown, and is marked on it
    [row] = result["review"]
    assert row["correct"] is True and row["expected"] == RIGHT
    # no attempt: the attempt log grades against the current revision, which they never saw
    assert not Attempt.objects.filter(learner=learner).exists()
