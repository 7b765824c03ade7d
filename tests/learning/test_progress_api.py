"""GET /api/v1/progress/ and /statistics/, POST /progress/reset/, the admin's restore, and
who sees what."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.content.services import (
    ConceptWeightInput,
    atom_concept_weights_set,
    atom_edit_recorded,
)
from apps.learning.models import Attempt, ProgressSnapshot, StudySession, XPEvent
from apps.scheduler.models import LearnerAtomState
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom, republish
from tests.curriculum.factories import ConceptFactory
from tests.learning.factories import AttemptFactory
from tests.learning.helpers import (
    ATTEMPTS_URL,
    BATCH_URL,
    CORRECT_MCQ,
    PROGRESS_URL,
    RESET_URL,
    SESSIONS_URL,
    STATISTICS_URL,
    WRONG_MCQ,
    attempt_payload,
    live_state,
    session_complete_url,
    superuser,
)

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
DAY_1, DAY_2 = date(2026, 11, 18), date(2026, 11, 19)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)


# --- the numbers ---------------------------------------------------------------------------


@pytest.fixture
def new_yorker_history():
    """Seven hand-built attempts of a New York learner over two local days."""
    learner = UserFactory(timezone="America/New_York")
    addressing = ConceptFactory(text="Addressing")
    routing = ConceptFactory(text="Routing")
    mcq_1 = make_atom("mcq", concept=routing)
    mcq_2 = make_atom("mcq", concept=routing)
    card = make_atom("flashcard", concept=addressing)
    for atom, when, correct, ms in [
        (mcq_1, at(DAY_1, 10), True, 1000),
        (mcq_1, at(DAY_1, 23, 30), False, 2000),  # already DAY_2 in UTC
        (card, at(DAY_2, 9), True, 3000),
        (card, at(DAY_2, 9, 5), True, 4000),
        (card, at(DAY_2, 9, 10), False, 500),
        (mcq_2, at(DAY_2, 12), True, 1500),
        (mcq_2, at(DAY_2, 12, 5), False, 0),
    ]:
        AttemptFactory(
            learner=learner, atom=atom, answered_at=when, correct=correct, time_taken_ms=ms
        )
    return learner, addressing, routing


def test_statistics_add_up_by_local_day_atom_type_and_concept(new_yorker_history):
    learner, addressing, routing = new_yorker_history

    statistics = client_for(learner).get(STATISTICS_URL)

    assert statistics.status_code == 200
    body = statistics.json()
    assert body["overall"] == {
        "attempts": 7,
        "correct": 4,
        "accuracy": 0.5714,
        "time_spent_ms": 12000,
    }
    assert body["by_day"] == [
        {
            "date": "2026-11-18",
            "attempts": 2,
            "correct": 1,
            "accuracy": 0.5,
            "time_spent_ms": 3000,
        },
        {
            "date": "2026-11-19",
            "attempts": 5,
            "correct": 3,
            "accuracy": 0.6,
            "time_spent_ms": 9000,
        },
    ]
    assert body["by_atom_type"] == [
        {"atom_type": "flashcard", "attempts": 3, "correct": 2, "accuracy": 0.6667},
        {"atom_type": "mcq", "attempts": 4, "correct": 2, "accuracy": 0.5},
    ]
    assert body["by_concept"] == [
        {
            "concept": str(addressing.pk),
            "text": "Addressing",
            "attempts": 3,
            "correct": 2,
            "accuracy": 0.6667,
            "mastery": 0.6,  # (2 + 1) / (3 + 2)
        },
        {
            "concept": str(routing.pk),
            "text": "Routing",
            "attempts": 4,
            "correct": 2,
            "accuracy": 0.5,
            "mastery": 0.5,  # (2 + 1) / (4 + 2)
        },
    ]


def test_progress_totals_for_the_same_history(new_yorker_history):
    learner, _, _ = new_yorker_history

    progress = client_for(learner).get(PROGRESS_URL).json()

    assert {key: progress[key] for key in ("attempts", "correct", "accuracy", "time_spent_ms")} == {
        "attempts": 7,
        "correct": 4,
        "accuracy": 0.5714,
        "time_spent_ms": 12000,
    }
    assert progress["streak"]["practice_dates"] == ["2026-11-18", "2026-11-19"]
    assert progress["streak"]["longest_streak"] == 2
    assert progress["streak"]["timezone"] == "America/New_York"


def test_an_atom_on_two_concepts_counts_once_for_each(learner):
    # Given an atom linked to two concepts, answered twice
    first, second = ConceptFactory(text="First"), ConceptFactory(text="Second")
    atom = make_atom("mcq", concept=first)
    atom_concept_weights_set(
        atom=atom, weights=[ConceptWeightInput(first), ConceptWeightInput(second, 0.5)]
    )
    atom_edit_recorded(atom=atom, by=superuser(), source="api")
    atom = republish(atom)
    AttemptFactory.create_batch(2, learner=learner, atom=atom, correct=True)

    by_concept = client_for(learner).get(STATISTICS_URL).json()["by_concept"]

    # Then each concept has the two attempts (not four: no doubled join)
    assert [(row["text"], row["attempts"], row["mastery"]) for row in by_concept] == [
        ("First", 2, 0.75),
        ("Second", 2, 0.75),
    ]


def test_a_new_learner_sees_zeros_not_errors(learner_client):
    progress = learner_client.get(PROGRESS_URL).json()
    statistics = learner_client.get(STATISTICS_URL).json()

    assert progress["attempts"] == progress["xp_total"] == progress["time_spent_ms"] == 0
    assert progress["accuracy"] is None
    assert progress["streak"]["current_streak"] == progress["streak"]["longest_streak"] == 0
    assert statistics["overall"]["accuracy"] is None
    assert statistics["by_day"] == statistics["by_atom_type"] == statistics["by_concept"] == []


# --- query counts --------------------------------------------------------------------------

# Each adds the concept mastery: one UNION ALL (the learner's courses' concepts with their
# P(known), and the prerequisite links), and a read of each course's BKT priors on a cold
# cache (tests/learning/test_mastery_api.py counts that path with many concepts).
PROGRESS_QUERIES = 5 + 2
STATISTICS_QUERIES = 4 + 2


def _history_of(learner, attempts: int) -> None:
    now = timezone.now()
    atoms = [make_atom(kind) for kind in ("mcq", "flashcard", "cloze")]
    session = StudySession.objects.create(learner=learner, started_at=now - timedelta(days=9))
    for n in range(attempts):
        atom = atoms[n % len(atoms)]
        attempt = AttemptFactory(
            learner=learner,
            atom=atom,
            session=session,
            correct=n % 3 != 0,
            answered_at=now - timedelta(hours=5 * n),
        )
        XPEvent.objects.create(learner=learner, amount=10, reason="attempt", attempt=attempt,
                               occurred_at=attempt.answered_at)  # fmt: skip
    for atom in atoms:
        LearnerAtomState.objects.create(learner=learner, atom=atom, due_at=now)


@pytest.mark.parametrize("attempts", [5, 50])
def test_progress_and_statistics_take_a_fixed_number_of_queries(
    learner_client, learner, attempts, django_assert_max_num_queries
):
    # Given a history of 5 or of 50 attempts
    _history_of(learner, attempts)

    # When the learner reads progress and statistics, the query count does not grow with it
    with django_assert_max_num_queries(PROGRESS_QUERIES):
        progress = learner_client.get(PROGRESS_URL)
    with django_assert_max_num_queries(STATISTICS_QUERIES):
        statistics = learner_client.get(STATISTICS_URL)

    assert progress.json()["attempts"] == statistics.json()["overall"]["attempts"] == attempts
    assert progress.json()["xp_total"] == 10 * attempts
    assert progress.json()["atoms_due"] == 3


# --- reset ---------------------------------------------------------------------------------


def _practise(client, atoms, now, answers) -> dict:
    """A completed session with ``answers`` (atom index, response) a minute apart."""
    session = client.post(
        SESSIONS_URL, {"started_at": (now - timedelta(hours=2)).isoformat()}, format="json"
    ).json()
    rows = [
        attempt_payload(
            atoms[i], response, answered_at=now - timedelta(minutes=100 - n), session=session["id"]
        )
        for n, (i, response) in enumerate(answers)
    ]
    synced = client.post(BATCH_URL, {"attempts": rows}, format="json").json()
    assert synced["summary"]["created"] == len(rows)
    assert client.post(session_complete_url(session["id"]), {}, format="json").status_code == 200
    return session


@pytest.mark.parametrize("body", [{}, {"confirm": False}, {"confirm": "maybe"}])
def test_reset_needs_an_explicit_confirmation(learner_client, learner, body):
    # Given a learner with progress
    learner_client.post(ATTEMPTS_URL, attempt_payload(make_atom("mcq")), format="json")

    # When they ask for a reset without confirming
    response = learner_client.post(RESET_URL, body, format="json")

    # Then nothing happens
    assert response.status_code == 400
    assert "confirm" in response.json()["error"]["details"]
    assert learner_client.get(PROGRESS_URL).json()["attempts"] == 1
    assert not ProgressSnapshot.objects.exists()


def test_reset_sets_everything_aside_and_starts_from_zero(learner_client, learner):
    # Given a learner with a completed session of three answers (two right)
    now = timezone.now()
    atoms = [make_atom("mcq"), make_atom("mcq")]
    _practise(learner_client, atoms, now, [(0, CORRECT_MCQ), (1, WRONG_MCQ), (1, CORRECT_MCQ)])
    assert learner_client.get(PROGRESS_URL).json()["xp_total"] == 2 * 10 + 20

    # When they reset, confirming
    response = learner_client.post(RESET_URL, {"confirm": True}, format="json")

    # Then they are told what was set aside...
    assert response.status_code == 200
    snapshot = ProgressSnapshot.objects.get(learner=learner)
    assert response.json() == {
        "snapshot": str(snapshot.pk),
        "archived_attempts": 3,
        "archived_sessions": 1,
        "archived_xp": 40,
        "restorable": True,
    }
    assert (snapshot.attempt_count, snapshot.session_count, snapshot.xp_total) == (3, 1, 40)
    # ...their progress starts from zero...
    progress = learner_client.get(PROGRESS_URL).json()
    counters = ("attempts", "correct", "xp_total", "sessions", "atoms_studied", "atoms_due")
    assert {key: progress[key] for key in counters} == dict.fromkeys(counters, 0)
    assert progress["streak"]["current_streak"] == 0
    assert progress["streak"]["practice_dates"] == []
    assert learner_client.get(STATISTICS_URL).json()["overall"]["attempts"] == 0
    # ...and nothing was deleted
    assert Attempt.objects.filter(learner=learner, archived_in=snapshot).count() == 3
    assert LearnerAtomState.objects.filter(learner=learner, archived_in=snapshot).count() == 2
    # And a new answer on an old atom starts a fresh scheduler state
    learner_client.post(ATTEMPTS_URL, attempt_payload(atoms[0]), format="json")
    assert live_state(learner, atoms[0])["reviews"] == 1


def test_completing_a_session_set_aside_by_a_reset_earns_nothing(learner_client, learner):
    # Given a learner who answered in a session, then reset before completing it
    session = learner_client.post(SESSIONS_URL, {}, format="json").json()
    body = attempt_payload(make_atom("mcq"), session=session["id"])
    assert learner_client.post(ATTEMPTS_URL, body, format="json").status_code == 201
    learner_client.post(RESET_URL, {"confirm": True}, format="json")

    # When the app, unaware, completes the old session
    learner_client.post(session_complete_url(session["id"]), {}, format="json")

    # Then the fresh start stays at zero
    progress = learner_client.get(PROGRESS_URL).json()
    assert (progress["attempts"], progress["sessions"]) == (0, 0)
    assert progress["xp_total"] == 0


# --- restore through the admin -------------------------------------------------------------


def restore(admin_client, *snapshots):
    return admin_client.post(
        reverse("admin:learning_progresssnapshot_changelist"),
        {"action": "restore_selected", "_selected_action": [str(s.pk) for s in snapshots]},
        follow=True,
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def admin_client(client):
    client.force_login(superuser())
    return client


def test_restoring_a_reset_brings_progress_back_and_rebuilds_scheduling(
    learner_client, learner, admin_client
):
    # Given a learner who practised, reset, then answered once more on one of the atoms
    now = timezone.now()
    atoms = [make_atom("mcq"), make_atom("flashcard")]
    _practise(learner_client, atoms, now, [(0, CORRECT_MCQ), (1, {"quality": 4}), (0, WRONG_MCQ)])
    before = learner_client.get(PROGRESS_URL).json()
    states_before = [live_state(learner, atom) for atom in atoms]
    learner_client.post(RESET_URL, {"confirm": True}, format="json")
    snapshot = ProgressSnapshot.objects.get(learner=learner)
    later = attempt_payload(atoms[0], CORRECT_MCQ, answered_at=now - timedelta(minutes=5))
    assert learner_client.post(ATTEMPTS_URL, later, format="json").status_code == 201

    # When staff restore the reset from the admin
    response = restore(admin_client, snapshot)

    # Then they are told so, and the learner has the old progress plus the new answer
    assert response.status_code == 200
    assert messages_of(response) == [f"Restored {learner}'s progress."]
    progress = learner_client.get(PROGRESS_URL).json()
    assert progress["attempts"] == before["attempts"] + 1 == 4
    assert progress["xp_total"] == before["xp_total"] + 10
    assert (progress["sessions"], progress["sessions_completed"]) == (1, 1)
    assert progress["atoms_studied"] == 2
    # And each atom's scheduler state is the replay of its whole log
    assert live_state(learner, atoms[1]) == states_before[1]
    assert live_state(learner, atoms[0])["reviews"] == 3
    assert LearnerAtomState.objects.filter(learner=learner).count() == 2
    snapshot.refresh_from_db()
    assert snapshot.restored_at is not None
    assert snapshot.restored_by.is_superuser


def test_restoring_without_new_progress_gives_back_the_same_state(
    learner_client, learner, admin_client
):
    atoms = [make_atom("flashcard")]
    _practise(learner_client, atoms, timezone.now(), [(0, {"quality": q}) for q in (5, 2, 4)])
    before = learner_client.get(PROGRESS_URL).json()
    state_before = live_state(learner, atoms[0])
    learner_client.post(RESET_URL, {"confirm": True}, format="json")

    restore(admin_client, ProgressSnapshot.objects.get(learner=learner))

    assert learner_client.get(PROGRESS_URL).json() == before
    assert live_state(learner, atoms[0]) == state_before


def test_a_snapshot_cannot_be_restored_twice(learner_client, learner, admin_client):
    # Given a reset that staff already restored
    _practise(learner_client, [make_atom("mcq")], timezone.now(), [(0, CORRECT_MCQ)])
    learner_client.post(RESET_URL, {"confirm": True}, format="json")
    snapshot = ProgressSnapshot.objects.get(learner=learner)
    restore(admin_client, snapshot)
    restored = learner_client.get(PROGRESS_URL).json()

    # When it is restored again
    response = restore(admin_client, snapshot)

    # Then staff are told it already was, and nothing changes
    [message] = get_messages(response.wsgi_request)
    assert str(message).endswith("This snapshot has already been restored.")
    assert message.level_tag == "warning"
    assert learner_client.get(PROGRESS_URL).json() == restored


def test_staff_without_the_change_permission_cannot_restore(client, learner_client, learner):
    # Given a reset, and a staff member who may only view snapshots
    _practise(learner_client, [make_atom("mcq")], timezone.now(), [(0, CORRECT_MCQ)])
    learner_client.post(RESET_URL, {"confirm": True}, format="json")
    snapshot = ProgressSnapshot.objects.get(learner=learner)
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_progresssnapshot"))
    client.force_login(viewer)

    # When they try the restore action
    response = restore(client, snapshot)

    # Then it is refused and the learner's progress stays reset
    assert messages_of(response) == ["You may not restore progress."]
    snapshot.refresh_from_db()
    assert snapshot.restored_at is None
    assert learner_client.get(PROGRESS_URL).json()["attempts"] == 0


# --- isolation -----------------------------------------------------------------------------


def test_learners_never_see_or_touch_each_others_progress(learner_client, learner):
    # Given learner A with an open session and answers in it
    atom = make_atom("mcq")
    alice = client_for(UserFactory())
    session = alice.post(SESSIONS_URL, {}, format="json").json()
    for response in (CORRECT_MCQ, WRONG_MCQ):
        body = attempt_payload(atom, response, session=session["id"])
        assert alice.post(ATTEMPTS_URL, body, format="json").status_code == 201

    # When learner B (the fixture learner) looks at progress and pokes at A's session
    progress = learner_client.get(PROGRESS_URL).json()
    statistics = learner_client.get(STATISTICS_URL).json()
    complete = learner_client.post(session_complete_url(session["id"]), {}, format="json")
    into = learner_client.post(
        ATTEMPTS_URL, attempt_payload(atom, session=session["id"]), format="json"
    )

    # Then B sees none of A's work and cannot complete or answer into A's session
    assert (progress["attempts"], progress["xp_total"], progress["sessions"]) == (0, 0, 0)
    assert statistics["overall"]["attempts"] == 0
    assert statistics["by_concept"] == statistics["by_day"] == []
    assert complete.status_code == 404
    assert into.status_code == 404
    assert not Attempt.objects.filter(learner=learner).exists()
    assert StudySession.objects.get(pk=session["id"]).completed_at is None
    assert alice.get(PROGRESS_URL).json()["attempts"] == 2


def test_one_learners_reset_leaves_others_alone(learner_client, learner):
    atom = make_atom("mcq")
    other = client_for(UserFactory())
    for client in (learner_client, other):
        client.post(ATTEMPTS_URL, attempt_payload(atom), format="json")

    learner_client.post(RESET_URL, {"confirm": True}, format="json")

    assert learner_client.get(PROGRESS_URL).json()["attempts"] == 0
    assert other.get(PROGRESS_URL).json()["attempts"] == 1
    assert other.get(PROGRESS_URL).json()["atoms_studied"] == 1
