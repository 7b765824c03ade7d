"""POST /api/v1/attempts/: one answer, graded on the server, safe to retry."""

import uuid

import pytest
from django.db import connection
from django.db.models import Sum
from rest_framework.test import APIClient

from apps.content.atom_types import OptionData
from apps.content.services import atom_transition, atom_update
from apps.learning.models import Attempt, StudySession, XPEvent
from apps.scheduler.models import LearnerAtomState
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom, republish
from tests.curriculum.factories import MisconceptionFactory
from tests.learning.helpers import (
    ATTEMPTS_URL,
    CORRECT_MCQ,
    SESSIONS_URL,
    WRONG_MCQ,
    attempt_payload,
    superuser,
)

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = connection.vendor == "postgresql"


def post(client, body):
    return client.post(ATTEMPTS_URL, body, format="json")


def xp_total(learner) -> int:
    return XPEvent.objects.filter(learner=learner).aggregate(total=Sum("amount"))["total"] or 0


# --- idempotency ---------------------------------------------------------------------------


def test_first_post_creates_and_a_retry_replays_the_identical_result(learner_client, learner):
    # Given a published mcq and an answer the client will send twice (a flaky network)
    atom = make_atom("mcq")
    body = attempt_payload(atom, CORRECT_MCQ, time_taken_ms=4200)

    # When it is posted, then posted again unchanged
    first = post(learner_client, body)
    retry = post(learner_client, body)

    # Then the first is created and graded, and the retry gets the very same result back
    assert first.status_code == 201
    result = first.json()
    assert result["client_attempt_id"] == body["client_attempt_id"]
    assert (result["correct"], result["score"], result["quality"]) == (True, 1.0, 5)
    assert "TCP numbers and reorders segments." in result["feedback"]
    assert result["misconception"] is None
    assert result["next_review_at"] is not None
    assert retry.status_code == 200
    assert retry.json() == result
    assert Attempt.objects.filter(learner=learner).count() == 1


def test_same_id_with_a_different_answer_is_a_conflict(learner_client, learner):
    # Given an answer already recorded
    atom = make_atom("mcq")
    body = attempt_payload(atom, CORRECT_MCQ)
    assert post(learner_client, body).status_code == 201

    # When the same client_attempt_id comes back with another answer
    response = post(learner_client, body | {"response": WRONG_MCQ})

    # Then it is refused as a conflict and the recorded answer stands
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    attempt = Attempt.objects.get(learner=learner)
    assert (attempt.response, attempt.correct) == (CORRECT_MCQ, True)


def test_another_learner_may_use_the_same_client_attempt_id(learner_client, learner):
    # Given one learner's recorded attempt
    atom = make_atom("mcq")
    body = attempt_payload(atom, CORRECT_MCQ)
    assert post(learner_client, body).status_code == 201

    # When another learner's device happens to send the same id
    other = APIClient()
    other.force_authenticate(UserFactory())
    response = post(other, body | {"response": WRONG_MCQ})

    # Then it is a new attempt of theirs, not a replay or conflict with someone else's
    assert response.status_code == 201
    assert response.json()["correct"] is False
    assert Attempt.objects.count() == 2


# --- not found -----------------------------------------------------------------------------


def _archived_atom():
    atom = make_atom("mcq")
    return atom_transition(atom=atom, action="archive", by=superuser(), source="admin")


def _someone_elses_session(atom):
    other = UserFactory()
    session = StudySession.objects.create(learner=other, started_at=atom.created_at)
    return {"session": str(session.pk)}


@pytest.mark.parametrize(
    "case",
    ["unknown atom", "draft atom", "archived atom", "another learner's session"],
)
def test_what_the_learner_cannot_see_is_not_found(learner_client, learner, case):
    # Given an atom the learner cannot answer, or a session that is not theirs
    published = make_atom("mcq")
    body = {
        "unknown atom": lambda: attempt_payload(published) | {"atom": str(uuid.uuid4())},
        "draft atom": lambda: attempt_payload(make_atom("mcq", status="draft")),
        "archived atom": lambda: attempt_payload(_archived_atom()),
        "another learner's session": lambda: (
            attempt_payload(published) | _someone_elses_session(published)
        ),
    }[case]()

    # When the learner posts an answer to it
    response = post(learner_client, body)

    # Then it is a 404 in the error envelope and nothing is recorded
    assert response.status_code == 404, response.json()
    assert response.json()["error"]["code"] == "not_found"
    assert not Attempt.objects.filter(learner=learner).exists()
    assert not XPEvent.objects.filter(learner=learner).exists()


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("atom_type", "response", "field"),
    [
        ("mcq", {"choice": 7}, "response.choice"),
        ("mcq", {"choice": "1"}, "response.choice"),
        ("flashcard", {"quality": 9}, "response.quality"),
        ("cloze", {"blanks": ["network"]}, "response.blanks"),
        ("cloze", {"blanks": ["network", "data link"], "extra": 1}, "response.extra"),
    ],
)
def test_a_malformed_response_for_the_atom_type_names_the_bad_field(
    learner_client, learner, atom_type, response, field
):
    # Given a published atom of the type
    atom = make_atom(atom_type)

    # When the learner sends a response that does not fit it
    result = post(learner_client, attempt_payload(atom, response))

    # Then it is a 400 whose details point at the offending part of the response
    assert result.status_code == 400
    error = result.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"], error
    assert not Attempt.objects.filter(learner=learner).exists()
    assert not LearnerAtomState.objects.filter(learner=learner).exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda body: body.pop("client_attempt_id"), "client_attempt_id"),
        (lambda body: body.update(client_attempt_id="not-a-uuid"), "client_attempt_id"),
        (lambda body: body.update(atom="42"), "atom"),
        (lambda body: body.pop("response"), "response"),
        (lambda body: body.update(time_taken_ms=-1), "time_taken_ms"),
        (lambda body: body.update(confidence=1.5), "confidence"),
        (lambda body: body.update(hints_used=-2), "hints_used"),
        (lambda body: body.update(answered_at="yesterday"), "answered_at"),
    ],
)
def test_an_ill_formed_request_is_rejected_before_grading(learner_client, learner, change, field):
    # Given an otherwise valid answer with one field wrong
    body = attempt_payload(make_atom("mcq"))
    change(body)

    # When it is posted
    response = post(learner_client, body)

    # Then the 400 names that field
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert list(response.json()["error"]["details"]) == [field]
    assert not Attempt.objects.exists()


def test_a_nul_character_in_a_text_answer_is_never_a_server_error(learner_client):
    # Given a cloze answer with a NUL character in it (a buggy or hostile client)
    atom = make_atom("cloze")

    # When it is posted
    response = post(learner_client, attempt_payload(atom, {"blanks": ["net\u0000work", "x"]}))

    # Then it is either graded or refused as invalid, never a 500
    assert response.status_code in (201, 400), response.content


def test_anonymous_clients_cannot_post_attempts(api_client):
    response = post(api_client, attempt_payload(make_atom("mcq")))

    assert response.status_code == 401
    assert not Attempt.objects.exists()


# --- grading against the published revision -----------------------------------------------


def test_attempts_are_graded_against_the_published_revision_not_a_newer_draft(
    learner_client, learner
):
    # Given a published mcq (revision 1: TCP, option 1, is right) whose editor has since saved
    # a draft making UDP, option 0, the right answer (revision 2, not yet published)
    boss = superuser()
    atom = make_atom("mcq")
    flipped = [
        OptionData(0, "UDP", True, "Now the keyed answer."),
        OptionData(1, "TCP", False),
        OptionData(2, "ICMP", False),
    ]
    atom = atom_update(atom=atom, by=boss, source="api", options=flipped)
    assert atom.revisions.count() == 2

    # When the learner answers TCP
    before = post(learner_client, attempt_payload(atom, CORRECT_MCQ))

    # Then it is graded by the live revision 1, and the attempt says so
    assert before.status_code == 201
    assert before.json()["correct"] is True
    assert Attempt.objects.get(pk=before.json()["id"]).revision.number == 1

    # And once the draft is published, the same answer is graded by revision 2
    republish(atom)
    after = post(learner_client, attempt_payload(atom, CORRECT_MCQ))
    assert after.status_code == 201
    assert after.json()["correct"] is False
    assert Attempt.objects.get(pk=after.json()["id"]).revision.number == 2


# --- feedback ------------------------------------------------------------------------------


def test_a_wrong_option_linked_to_a_misconception_tells_the_learner_about_it(learner_client):
    # Given an mcq whose wrong option UDP reveals a known misconception
    misconception = MisconceptionFactory(
        name="UDP is reliable", remediation="UDP neither retransmits nor reorders."
    )
    atom = make_atom(
        "mcq",
        concept=misconception.concept,
        options=[
            OptionData(0, "UDP", False, "UDP makes no ordering promise.", misconception.pk),
            OptionData(1, "TCP", True),
            OptionData(2, "ICMP", False),
        ],
    )

    # When the learner picks UDP, and later the right answer
    wrong = post(learner_client, attempt_payload(atom, WRONG_MCQ))
    right = post(learner_client, attempt_payload(atom, CORRECT_MCQ))

    # Then the wrong answer comes with the misconception and its remediation; the right one not
    assert wrong.status_code == 201
    assert wrong.json()["correct"] is False
    assert wrong.json()["misconception"] == {
        "id": str(misconception.pk),
        "name": "UDP is reliable",
        "remediation": "UDP neither retransmits nor reorders.",
    }
    assert "UDP makes no ordering promise." in wrong.json()["feedback"]
    assert right.json()["misconception"] is None


# --- XP ------------------------------------------------------------------------------------


def test_a_correct_answer_earns_ten_xp_once_and_a_wrong_one_none(learner_client, learner):
    # Given a published mcq
    atom = make_atom("mcq")
    right = attempt_payload(atom, CORRECT_MCQ)

    # When the learner answers it right (and the client retries), then wrong
    assert post(learner_client, right).status_code == 201
    assert post(learner_client, right).status_code == 200
    assert post(learner_client, attempt_payload(atom, WRONG_MCQ)).status_code == 201

    # Then the ledger holds one +10 for the right answer, nothing for the replay or the miss
    assert xp_total(learner) == 10
    [event] = XPEvent.objects.filter(learner=learner)
    assert (event.amount, event.reason) == (10, "attempt")
    assert str(event.attempt.client_attempt_id) == right["client_attempt_id"]


def test_answers_to_a_session_of_ones_own_are_recorded_in_it(learner_client, learner):
    # Given a session the learner started
    session = learner_client.post(SESSIONS_URL, {}, format="json").json()

    # When they answer inside it
    response = post(learner_client, attempt_payload(make_atom("mcq"), session=session["id"]))

    # Then the attempt belongs to the session
    assert response.status_code == 201
    assert str(Attempt.objects.get(pk=response.json()["id"]).session_id) == session["id"]
