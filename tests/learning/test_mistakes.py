"""Mistakes (issue 20): a wrong answer records one (the atom's concept, the misconception the
chosen option names), GET /mistakes/ lists the open ones grouped by concept and misconception,
a ``mistakes`` session practises only their atoms, and two later correct answers on the atom
clear one. Replays and re-sent batches record nothing twice."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.content.atom_types import OptionData
from apps.learning.models import Attempt, Mistake
from apps.learning.services import mistakes as mistakes_service
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory, MisconceptionFactory
from tests.learning.helpers import (
    ATTEMPTS_URL,
    BATCH_URL,
    CORRECT_MCQ,
    RESET_URL,
    SESSIONS_URL,
    WRONG_MCQ,
    attempt_payload,
)

pytestmark = pytest.mark.django_db

MISTAKES_URL = "/api/v1/mistakes/"
NEXT_URL = "/api/v1/scheduler/next/"
ICMP = {"choice": 2}  # the example mcq's other wrong option


@pytest.fixture
def world():
    """A course of two concepts; the first has a misconception its atoms' UDP option names."""
    course = CourseFactory()
    first, second = ConceptFactory(course=course, text="Transport"), ConceptFactory(course=course)
    udp_is_reliable = MisconceptionFactory(concept=first, name="UDP is reliable")

    def atom(concept=first):
        return make_atom("mcq", concept=concept, options=[
            OptionData(0, "UDP", False, "No ordering promise.", udp_is_reliable.pk),
            OptionData(1, "TCP", True),
            OptionData(2, "ICMP", False),
        ])  # fmt: skip

    return course, first, second, udp_is_reliable, atom


def answer(client, atom, response, **extra):
    response = client.post(ATTEMPTS_URL, attempt_payload(atom, response, **extra), format="json")
    assert response.status_code in (200, 201), response.content
    return response


def listed(client, course) -> dict:
    response = client.get(MISTAKES_URL, {"course": str(course.pk)})
    assert response.status_code == 200, response.content
    return response.json()


# --- recorded ----------------------------------------------------------------------------------


def test_a_wrong_answer_records_a_mistake_with_the_chosen_options_misconception(
    learner_client, learner, world
):
    _, concept, _, misconception, new_atom = world
    atom = new_atom()

    # When the learner picks UDP, then ICMP, then the right answer
    udp = answer(learner_client, atom, WRONG_MCQ).json()
    icmp = answer(learner_client, atom, ICMP).json()
    answer(learner_client, atom, CORRECT_MCQ)

    # Then each wrong answer is a mistake on the atom's concept; only UDP names a misconception
    rows = list(Mistake.objects.order_by("occurred_at"))
    got = [(m.attempt_id, m.atom_id, m.concept_id, m.misconception_id, m.subtype) for m in rows]
    assert got == [
        (uuid.UUID(udp["id"]), atom.pk, concept.pk, misconception.pk, "misconception"),
        (uuid.UUID(icmp["id"]), atom.pk, concept.pk, None, "wrong_answer"),
    ]  # fmt: skip
    assert all(m.learner == learner for m in rows)
    assert rows[0].occurred_at == Attempt.objects.get(pk=udp["id"]).answered_at
    assert rows[0].raw_text == '{"choice": 0}'


def test_replays_and_re_sent_batches_record_nothing_twice(learner_client, world):
    _, _, _, _, new_atom = world
    atom, other = new_atom(), new_atom()
    live = attempt_payload(atom, WRONG_MCQ)
    batch = {"attempts": [attempt_payload(other, WRONG_MCQ), attempt_payload(other, ICMP)]}

    for _ in range(2):
        assert learner_client.post(ATTEMPTS_URL, live, format="json").status_code in (200, 201)
        assert learner_client.post(BATCH_URL, batch, format="json").status_code == 200

    assert Mistake.objects.filter(atom=atom).count() == 1
    assert Mistake.objects.filter(atom=other).count() == 2


def test_placement_answers_record_no_mistakes(learner_client, world):
    course, _, _, _, new_atom = world
    atom = new_atom()
    session = learner_client.post(
        SESSIONS_URL, {"kind": "placement", "course": str(course.pk)}, format="json"
    ).json()["id"]

    answer(learner_client, atom, WRONG_MCQ, session=session)

    assert not Mistake.objects.exists()


def test_new_and_cleared_mistakes_are_announced_as_v1s_mistake_logs(
    learner_client, world, monkeypatch
):
    announced = []
    monkeypatch.setattr(
        mistakes_service, "rows_changed", lambda *, entity, ids: announced.append((entity, ids))
    )
    _, _, _, _, new_atom = world
    atom = new_atom()

    answer(learner_client, atom, WRONG_MCQ)
    answer(learner_client, atom, CORRECT_MCQ)
    answer(learner_client, atom, CORRECT_MCQ)

    mistake = Mistake.objects.get()
    assert announced == [
        ("mistake_logs", [mistake.pk]),  # recorded
        ("mistake_logs", []),  # one correct answer: nothing v1 has changes
        ("mistake_logs", [mistake.pk]),  # cleared
    ]


# --- cleared -----------------------------------------------------------------------------------


def test_two_later_correct_answers_on_the_atom_clear_a_mistake(learner_client, world):
    course, _, _, _, new_atom = world
    atom, other = new_atom(), new_atom()
    answer(learner_client, atom, WRONG_MCQ)

    answer(learner_client, other, CORRECT_MCQ)  # another atom of the same concept: no
    answer(learner_client, atom, CORRECT_MCQ)
    after_one = Mistake.objects.get()
    answer(learner_client, atom, ICMP)  # a new mistake; the first keeps its count
    second = answer(learner_client, atom, CORRECT_MCQ).json()

    first, again = Mistake.objects.order_by("occurred_at")
    assert after_one.correct_since == 1 and after_one.cleared_at is None
    assert first.correct_since == 2
    assert first.cleared_at == Attempt.objects.get(pk=second["id"]).answered_at
    assert (again.correct_since, again.cleared_at) == (1, None)
    assert listed(learner_client, course)["open"] == 1


def test_within_one_batch_only_correct_answers_after_the_mistake_count(learner_client, world):
    # Given an offline batch: right (before the miss), wrong, right, right, in time order
    _, _, _, _, new_atom = world
    atom, late = new_atom(), new_atom()
    start = timezone.now() - timedelta(hours=1)
    at = [start + timedelta(minutes=n) for n in range(4)]
    rows = [
        attempt_payload(atom, r, answered_at=t)
        for r, t in zip([CORRECT_MCQ, WRONG_MCQ, CORRECT_MCQ, CORRECT_MCQ], at, strict=True)
    ]
    # and an open mistake on another atom, then a right answer that arrives late but was
    # given before it (it does not count), and one given after it
    answer(learner_client, late, WRONG_MCQ, answered_at=at[2])
    late_rows = [attempt_payload(late, CORRECT_MCQ, answered_at=at[1]),
                 attempt_payload(late, CORRECT_MCQ, answered_at=at[3])]  # fmt: skip

    # When both arrive (shuffled) in one batch
    body = {"attempts": [rows[3], late_rows[0], rows[1], rows[0], late_rows[1], rows[2]]}
    assert learner_client.post(BATCH_URL, body, format="json").status_code == 200

    # Then the in-batch mistake is recorded already cleared, at the second right answer after
    # it; the other has one correct answer after it
    in_batch = Mistake.objects.get(atom=atom)
    assert (in_batch.correct_since, in_batch.cleared_at) == (2, at[3])
    earlier = Mistake.objects.get(atom=late)
    assert (earlier.correct_since, earlier.cleared_at) == (1, None)


# --- listed ------------------------------------------------------------------------------------


def test_open_mistakes_are_listed_grouped_by_concept_and_misconception(learner_client, world):
    course, first, second, misconception, new_atom = world
    a, b, c = new_atom(), new_atom(), new_atom(second)
    answer(learner_client, a, WRONG_MCQ)
    answer(learner_client, b, WRONG_MCQ)
    answer(learner_client, b, WRONG_MCQ)
    answer(learner_client, a, ICMP)
    answer(learner_client, c, ICMP)
    # another learner's mistakes and another course's stay out
    answer(_client_of(UserFactory()), a, WRONG_MCQ)
    answer(learner_client, make_atom("mcq", concept=ConceptFactory()), WRONG_MCQ)

    body = listed(learner_client, course)

    assert (body["course"], body["open"], body["atoms"]) == (str(course.pk), 5, 3)
    udp, *others = body["groups"]
    assert udp["concept"] == {"id": str(first.pk), "text": "Transport"}
    assert udp["misconception"]["id"] == str(misconception.pk)
    assert udp["mistakes"] == 3
    assert [(x["atom"], x["mistakes"]) for x in udp["atoms"]] == [(str(b.pk), 2), (str(a.pk), 1)]
    assert [(g["concept"]["id"], g["misconception"], g["mistakes"]) for g in others] == [
        (str(second.pk), None, 1),  # the latest group first among equals
        (str(first.pk), None, 1),
    ]


def test_the_list_needs_a_published_course(learner_client):
    missing = learner_client.get(MISTAKES_URL)
    unknown = learner_client.get(MISTAKES_URL, {"course": str(uuid.uuid4())})
    hidden = learner_client.get(MISTAKES_URL, {"course": str(CourseFactory(is_published=False).pk)})

    assert missing.status_code == 400 and "course" in missing.json()["error"]["details"]
    assert unknown.status_code == hidden.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


def test_a_reset_sets_mistakes_aside(learner_client, world):
    course, _, _, _, new_atom = world
    answer(learner_client, new_atom(), WRONG_MCQ)

    learner_client.post(RESET_URL, {"confirm": True}, format="json")

    assert listed(learner_client, course)["open"] == 0
    assert Mistake.objects.get().archived_in is not None


# --- practised in a mistakes session -------------------------------------------------------------


def test_a_mistakes_session_offers_only_the_open_mistakes_atoms(learner_client, world):
    # Given five atoms of a course that offers no new atoms or reviews today; two were missed
    # (one of them since cleared) and one answered right
    course, _, second, _, new_atom = world
    course.new_per_day = course.reviews_per_day = 0
    course.save()
    atoms = [new_atom(), new_atom(second), new_atom(), new_atom(), new_atom()]
    answer(learner_client, atoms[0], WRONG_MCQ)
    answer(learner_client, atoms[1], ICMP)
    answer(learner_client, atoms[2], CORRECT_MCQ)
    answer(learner_client, atoms[3], WRONG_MCQ)
    for _ in range(2):
        answer(learner_client, atoms[3], CORRECT_MCQ)

    # When the learner starts a mistakes session and asks for next items in it
    started = learner_client.post(
        SESSIONS_URL, {"kind": "mistakes", "course": str(course.pk)}, format="json"
    )
    session = started.json()["id"]
    items = _next(learner_client, course, session=session)["items"]
    answer(learner_client, atoms[0], CORRECT_MCQ, session=session)
    after = _next(learner_client, course, session=session)["items"]

    # Then only the two open mistakes' atoms come, past the daily limits, and an atom answered
    # in the session does not come back in it
    assert started.status_code == 201 and started.json()["kind"] == "mistakes"
    assert {i["atom"]["id"] for i in items} == {str(atoms[0].pk), str(atoms[1].pk)}
    assert {i["reason"] for i in items} == {"review a mistake"}
    assert [i["atom"]["id"] for i in after] == [str(atoms[1].pk)]
    assert _next(learner_client, course)["items"] == []  # outside it, the limits hold


def test_a_mistakes_session_needs_a_course_with_open_mistakes(learner_client, world):
    course, *_ = world

    without_course = learner_client.post(SESSIONS_URL, {"kind": "mistakes"}, format="json")
    none_open = learner_client.post(
        SESSIONS_URL, {"kind": "mistakes", "course": str(course.pk)}, format="json"
    )

    assert without_course.status_code == 400
    assert "course" in without_course.json()["error"]["details"]
    assert none_open.status_code == 409
    assert none_open.json()["error"] == {
        "code": "no_open_mistakes",
        "message": "You have no open mistakes in this course to practise.",
        "details": {"course": str(course.pk)},
    }


# --- what it costs the attempt request -----------------------------------------------------------


def _mistake_statements(client, url, body) -> int:
    """Statements of the request that write mistakes (the state read that tells the service
    about open mistakes is the attempt service's own, with a subquery)."""
    with CaptureQueriesContext(connection) as queries:
        assert client.post(url, body, format="json").status_code in (200, 201)
    writes = ('INSERT INTO "learning_mistake"', "WITH answers")
    return sum(q["sql"].startswith(writes) for q in queries)


def test_mistakes_cost_one_statement_and_none_for_correct_answers_without_open_ones(
    learner_client, world
):
    _, _, _, _, new_atom = world
    atom, other = new_atom(), new_atom()
    for a in (atom, other):
        answer(learner_client, a, CORRECT_MCQ)

    wrong = _mistake_statements(learner_client, ATTEMPTS_URL, attempt_payload(atom, ICMP))
    right_elsewhere = _mistake_statements(learner_client, ATTEMPTS_URL, attempt_payload(other))
    right_on_it = _mistake_statements(learner_client, ATTEMPTS_URL, attempt_payload(atom))
    batch = {"attempts": [attempt_payload(other) for _ in range(20)]}
    right_batch = _mistake_statements(learner_client, BATCH_URL, batch)
    twenty = {"attempts": [attempt_payload(other, ICMP) for _ in range(20)]}
    wrong_batch = _mistake_statements(learner_client, BATCH_URL, twenty)

    assert wrong == 1  # the INSERT
    assert right_elsewhere == 0  # an open mistake on another atom costs nothing
    assert right_on_it == 1  # the UPDATE that counts it
    assert right_batch == 0  # a correct batch without open mistakes: nothing
    assert wrong_batch == 1  # twenty mistakes: one INSERT


def _client_of(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def _next(client, course, **params) -> dict:
    response = client.get(NEXT_URL, {"course": str(course.pk), "limit": 50, **params})
    assert response.status_code == 200, response.content
    return response.json()
