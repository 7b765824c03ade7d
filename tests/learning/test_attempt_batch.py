"""POST /api/v1/attempts/batch/: offline sync, each row reported on its own, applied in
answer-time order so the scheduler ends where a live session would have left it."""

import random
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum
from django.utils import timezone
from rest_framework.test import APIClient

from apps.learning.models import Attempt, StudySession, XPEvent
from apps.scheduler.models import LearnerAtomState
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.learning.helpers import (
    ATTEMPTS_URL,
    BATCH_URL,
    CORRECT_MCQ,
    PROGRESS_URL,
    SESSIONS_URL,
    STATISTICS_URL,
    WRONG_MCQ,
    attempt_payload,
    iso,
    live_state,
    session_complete_url,
)

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def sync(client, rows: list):
    return client.post(BATCH_URL, {"attempts": rows}, format="json")


def xp_total(learner) -> int:
    """XP from answers and sessions: streak and mastery bonuses (test_rewards.py) aside."""
    earned = XPEvent.objects.filter(learner=learner, bonus_key__isnull=True)
    return earned.aggregate(total=Sum("amount"))["total"] or 0


def bonus_xp(learner) -> int:
    bonuses = XPEvent.objects.filter(learner=learner, bonus_key__isnull=False)
    return bonuses.aggregate(total=Sum("amount"))["total"] or 0


# --- per-row outcomes ----------------------------------------------------------------------


def test_each_row_of_a_batch_gets_its_own_outcome(learner_client, learner, settings):
    # Given two answers the server already has, and an offline batch mixing every case
    settings.ATTEMPT_MAX_AGE_DAYS = 30
    settings.ATTEMPT_MAX_CLOCK_SKEW_S = 300
    now = timezone.now()
    atom = make_atom("mcq")
    known = attempt_payload(atom, CORRECT_MCQ, answered_at=now - timedelta(hours=3))
    reused = attempt_payload(atom, CORRECT_MCQ, answered_at=now - timedelta(hours=2))
    for body in (known, reused):
        assert learner_client.post(ATTEMPTS_URL, body, format="json").status_code == 201
    new = attempt_payload(atom, WRONG_MCQ, answered_at=now - timedelta(hours=1))
    rows = [
        new,  # 0 created
        known,  # 1 replayed: the server has it
        reused | {"response": WRONG_MCQ},  # 2 conflict: same id, another answer
        {"atom": str(atom.pk), "response": CORRECT_MCQ},  # 3 invalid: no client_attempt_id
        attempt_payload(atom) | {"atom": str(uuid.uuid4())},  # 4 invalid: unknown atom
        attempt_payload(atom, answered_at=now + timedelta(hours=1)),  # 5 invalid: future
        attempt_payload(atom, answered_at=now - timedelta(days=31)),  # 6 invalid: too old
        dict(new),  # 7 replayed: a duplicate of row 0 within the batch
        new | {"time_taken_ms": 99},  # 8 conflict: row 0's id with another payload
        attempt_payload(atom, {"choice": 7}),  # 9 invalid: no such option
        "not an object",  # 10 invalid
        attempt_payload(atom, answered_at=now + timedelta(seconds=60)),  # 11 created: in skew
    ]

    # When the batch is synced
    response = sync(learner_client, rows)

    # Then each row says what happened to it, in the order sent
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(len(rows)))
    outcomes = [(r["status"], r["http_status"]) for r in results]
    assert outcomes == [
        ("created", 201),
        ("replayed", 200),
        ("conflict", 409),
        ("invalid", 400),
        ("invalid", 404),
        ("invalid", 400),
        ("invalid", 400),
        ("replayed", 200),
        ("conflict", 409),
        ("invalid", 400),
        ("invalid", 400),
        ("created", 201),
    ]
    assert response.json()["summary"] == {"created": 2, "replayed": 2, "conflict": 2, "invalid": 6}
    # ...with the graded result where there is one and the reason where there is not
    assert results[0]["attempt"]["correct"] is False
    assert results[0]["client_attempt_id"] == new["client_attempt_id"]
    assert results[1]["attempt"]["client_attempt_id"] == known["client_attempt_id"]
    assert results[7]["attempt"] == results[0]["attempt"]
    assert results[2]["error"]["error"]["code"] == "conflict"
    assert "client_attempt_id" in results[3]["error"]["error"]["details"]
    assert results[3]["client_attempt_id"] is None
    assert results[4]["error"]["error"]["code"] == "not_found"
    assert "answered_at" in results[5]["error"]["error"]["details"]
    assert "answered_at" in results[6]["error"]["error"]["details"]
    assert "response.choice" in results[9]["error"]["error"]["details"]
    assert results[10]["error"]["error"]["details"] == {"row": ["Must be an object."]}
    # And only the two created rows were stored
    assert Attempt.objects.filter(learner=learner).count() == 4
    assert xp_total(learner) == 3 * 10  # known, reused and row 11; row 0 was wrong


def test_the_age_limit_follows_the_setting(learner_client, settings):
    # Given a server that keeps offline answers for two days only
    settings.ATTEMPT_MAX_AGE_DAYS = 2
    now = timezone.now()
    atom = make_atom("mcq")

    # When a device syncs answers from one and from three days ago
    response = sync(
        learner_client,
        [
            attempt_payload(atom, answered_at=now - timedelta(days=1)),
            attempt_payload(atom, answered_at=now - timedelta(days=3)),
        ],
    )

    # Then the first is recorded and the second is too old
    assert [r["status"] for r in response.json()["results"]] == ["created", "invalid"]
    assert "2 days" in response.json()["results"][1]["error"]["error"]["details"]["answered_at"][0]


def test_a_batch_over_the_limit_is_refused_whole(learner_client, learner):
    atom = make_atom("mcq")

    too_many = sync(learner_client, [attempt_payload(atom) for _ in range(501)])

    assert too_many.status_code == 400
    assert too_many.json()["error"]["code"] == "validation_error"
    assert "attempts" in too_many.json()["error"]["details"]
    assert not Attempt.objects.filter(learner=learner).exists()


def test_a_batch_at_the_limit_is_accepted(learner_client):
    # Five hundred rows are processed (here all rejected row by row, which is quick)
    response = sync(learner_client, [{} for _ in range(500)])

    assert response.status_code == 200
    assert response.json()["summary"]["invalid"] == 500


def test_an_empty_batch_is_refused(learner_client):
    response = sync(learner_client, [])

    assert response.status_code == 400
    assert "attempts" in response.json()["error"]["details"]


def test_a_duplicate_of_a_rejected_row_is_not_reported_as_stored(learner_client, learner):
    # Given a batch that sends a malformed answer twice (a client retrying within its queue)
    atom = make_atom("mcq")
    bad = attempt_payload(atom, {"choice": 7})

    # When it is synced
    results = sync(learner_client, [bad, dict(bad)]).json()["results"]

    # Then neither copy claims to be recorded
    assert not Attempt.objects.filter(learner=learner).exists()
    assert [r["status"] for r in results] == ["invalid", "invalid"]


def test_one_unstorable_answer_does_not_sink_the_rest_of_the_batch(learner_client, learner):
    # Given an offline batch with one good answer and one containing a NUL character
    atom = make_atom("cloze")
    good = attempt_payload(atom, {"blanks": ["network", "data link"]})
    odd = attempt_payload(atom, {"blanks": ["net\u0000work", "x"]})

    # When it is synced
    response = sync(learner_client, [good, odd])

    # Then the good row is recorded and the odd one has its own outcome
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert results[0]["status"] == "created"
    assert results[1]["status"] in ("created", "invalid")
    assert Attempt.objects.filter(
        learner=learner, client_attempt_id=good["client_attempt_id"]
    ).exists()


# --- ordering ------------------------------------------------------------------------------

# (atom, flashcard quality, hours before now): mixed recalls, so SM-2's result depends on order.
HISTORY = [
    ("a", 5, 70),
    ("b", 4, 66),
    ("a", 2, 50),
    ("a", 4, 49),
    ("b", 1, 30),
    ("a", 5, 26),
    ("b", 3, 20),
    ("a", 3, 5),
    ("b", 5, 2),
]


def history_rows(atoms: dict, now, history=HISTORY) -> list[dict]:
    return [
        attempt_payload(atoms[key], {"quality": q}, answered_at=now - timedelta(hours=h))
        for key, q, h in history
    ]


def post_live(client, rows) -> None:
    for row in rows:
        assert client.post(ATTEMPTS_URL, row, format="json").status_code == 201


def test_rows_sent_out_of_order_end_in_the_same_state_as_live_answers():
    # Given the same history answered live, in time order, by one learner...
    atoms = {"a": make_atom("flashcard"), "b": make_atom("flashcard")}
    now = timezone.now()
    live, offline = UserFactory(), UserFactory()
    post_live(client_for(live), history_rows(atoms, now))

    # ...and synced shuffled in one offline batch by another
    rows = history_rows(atoms, now)
    random.Random(7).shuffle(rows)
    response = sync(client_for(offline), rows)

    # Then every row is recorded and both learners' scheduler states are the same
    assert response.json()["summary"]["created"] == len(HISTORY)
    for atom in atoms.values():
        assert live_state(offline, atom) == live_state(live, atom)
    assert live_state(offline, atoms["a"])["reviews"] == 5
    assert live_state(offline, atoms["a"])["lapses"] == 1


def test_a_late_older_attempt_is_replayed_into_place(learner_client, learner):
    # Given one learner who answered everything live, in order...
    atoms = {"a": make_atom("flashcard"), "b": make_atom("flashcard")}
    now = timezone.now()
    reference = UserFactory()
    post_live(client_for(reference), history_rows(atoms, now))
    # ...and another whose earliest answers stayed on a phone while later ones went live
    rows = history_rows(atoms, now)
    early, later = rows[:3], rows[3:]
    post_live(learner_client, later)
    assert live_state(learner, atoms["a"]) != live_state(reference, atoms["a"])

    # When the phone finally syncs the older answers
    response = sync(learner_client, early[::-1])

    # Then they are slotted in by answer time: the state is as if all had arrived in order
    assert response.json()["summary"]["created"] == 3
    for atom in atoms.values():
        assert live_state(learner, atom) == live_state(reference, atom)


def test_a_late_older_live_attempt_is_replayed_into_place_too(learner_client, learner):
    # Given a learner whose later answers on a flashcard arrived first
    atom = make_atom("flashcard")
    now = timezone.now()
    history = [("a", 2, 30), ("a", 5, 20), ("a", 4, 10)]
    reference = UserFactory()
    post_live(client_for(reference), history_rows({"a": atom}, now, history))
    rows = history_rows({"a": atom}, now, history)
    post_live(learner_client, rows[1:])

    # When the oldest answer arrives through the single-attempt endpoint
    post_live(learner_client, rows[:1])

    # Then the state still matches answering in order
    assert live_state(learner, atom) == live_state(reference, atom)


def test_replaying_a_whole_batch_changes_nothing(learner_client, learner):
    # Given a synced batch
    atoms = {"a": make_atom("flashcard"), "b": make_atom("flashcard")}
    rows = history_rows(atoms, timezone.now())
    random.Random(3).shuffle(rows)
    first = sync(learner_client, rows).json()
    before = {
        "attempts": Attempt.objects.filter(learner=learner).count(),
        "xp": xp_total(learner),
        "xp_events": XPEvent.objects.filter(learner=learner).count(),
        "states": {key: live_state(learner, atom) for key, atom in atoms.items()},
    }

    # When the device, unsure it got through, sends the same batch again
    again = sync(learner_client, rows).json()

    # Then every row is a replay with its original result, and nothing changed
    assert {r["status"] for r in again["results"]} == {"replayed"}
    assert {r["http_status"] for r in again["results"]} == {200}
    assert [r["attempt"] for r in again["results"]] == [r["attempt"] for r in first["results"]]
    assert again["summary"] == {"created": 0, "replayed": len(rows), "conflict": 0, "invalid": 0}
    after = {
        "attempts": Attempt.objects.filter(learner=learner).count(),
        "xp": xp_total(learner),
        "xp_events": XPEvent.objects.filter(learner=learner).count(),
        "states": {key: live_state(learner, atom) for key, atom in atoms.items()},
    }
    assert after == before


# --- the offline journey -------------------------------------------------------------------


def test_an_offline_session_synced_later_shows_up_in_progress(learner_client, learner):
    # Given a learner who practised offline: a session with 20 answers on two atoms
    now = timezone.now()
    mcq, card = make_atom("mcq"), make_atom("flashcard")
    started = now - timedelta(minutes=30)
    session = learner_client.post(
        SESSIONS_URL, {"kind": "practice", "started_at": iso(started)}, format="json"
    )
    assert session.status_code == 201
    session_id = session.json()["id"]
    mcq_answers = [CORRECT_MCQ] * 7 + [WRONG_MCQ] * 3  # 7 right: 70 XP
    card_ratings = [5, 4, 3, 2, 5, 1, 4, 3, 0, 5]  # 7 at pass quality 3+; XP 2 per point
    rows = [
        attempt_payload(
            mcq,
            answer,
            answered_at=started + timedelta(minutes=1 + i),
            session=session_id,
            time_taken_ms=1000,
        )
        for i, answer in enumerate(mcq_answers)
    ] + [
        attempt_payload(
            card,
            {"quality": q},
            answered_at=started + timedelta(minutes=12 + i),
            session=session_id,
            time_taken_ms=2000,
        )
        for i, q in enumerate(card_ratings)
    ]
    random.Random(11).shuffle(rows)

    # When the device syncs the batch and completes the session (twice: it retries)
    synced = sync(learner_client, rows)
    completed = learner_client.post(session_complete_url(session_id), {}, format="json")
    again = learner_client.post(session_complete_url(session_id), {}, format="json")

    # Then all twenty are in, the session is done once, and progress adds up
    assert synced.json()["summary"]["created"] == 20
    assert completed.status_code == 200
    assert completed.json()["completed_at"] is not None
    assert again.json()["completed_at"] == completed.json()["completed_at"]
    progress = learner_client.get(PROGRESS_URL).json()
    assert progress["attempts"] == 20
    assert progress["correct"] == 14
    assert progress["accuracy"] == 0.7
    assert progress["time_spent_ms"] == 10 * 1000 + 10 * 2000
    assert progress["xp_total"] == 70 + 2 * sum(card_ratings) + 20 + bonus_xp(learner)
    assert (progress["sessions"], progress["sessions_completed"]) == (1, 1)
    assert progress["atoms_studied"] == 2
    assert progress["atoms_due"] == 0  # everything was just reviewed
    local_days = sorted(
        {
            (started + timedelta(minutes=m)).astimezone(ZoneInfo(learner.timezone)).date()
            for m in (1, 21)
        }
    )
    assert progress["streak"]["current_streak"] == len(local_days)
    assert progress["streak"]["practice_dates"] == [d.isoformat() for d in local_days]
    statistics = learner_client.get(STATISTICS_URL).json()
    assert statistics["overall"] == {
        "attempts": 20,
        "correct": 14,
        "accuracy": 0.7,
        "time_spent_ms": 30000,
    }
    by_type = {row["atom_type"]: row for row in statistics["by_atom_type"]}
    assert (by_type["mcq"]["correct"], by_type["flashcard"]["correct"]) == (7, 7)
    assert StudySession.objects.get(pk=session_id).attempts.count() == 20
    assert LearnerAtomState.objects.get(learner=learner, atom=mcq).reviews == 10
