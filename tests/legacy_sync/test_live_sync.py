"""Both systems live: v2 writes reach v1 through the outbox, v1 writes reach v2 through the
pull, each exactly once, and nothing returns to where it came from."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.services import user_create
from apps.content.models import LearningAtom
from apps.core.models import Origin
from apps.learning.models import Attempt, StudySession, XPEvent
from apps.learning.services.sessions import study_session_complete
from apps.legacy_sync.live.flags import sync_flags_update
from apps.legacy_sync.live.outbox.push import outbox_drain
from apps.legacy_sync.live.pull import legacy_pull_once
from apps.legacy_sync.models import OutboxEntry, OutboxStatus, SyncConflict
from apps.scheduler.models import LearnerAtomState

from .sync_helpers import (
    answer,
    bit_card,
    legacy_learner,
    synced_world,
    v1,
    v1_attempt_insert,
    v1_count,
    v2_session,
)

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)


def test_ping_pong_a_v2_attempt_reaches_v1_once_and_never_comes_back(tmp_path):
    # given a migrated learner practising in v2 with dual write on
    synced_world(tmp_path)
    learner, card = legacy_learner(), bit_card()
    before = v1_count("attempts")

    # when they answer (the outbox drains after commit: Celery is eager in tests)
    attempt = answer(learner, card, session=v2_session(learner, card))

    # then v1 has the attempt once, on the v1 id stored on the v2 row
    attempt.refresh_from_db()
    assert attempt.origin == Origin.V2 and attempt.legacy_key.isdigit()
    [(user_id, bit_id, correct)] = v1(
        "SELECT user_id, bit_id, correct FROM attempts WHERE id = %s", [int(attempt.legacy_key)]
    )
    assert (str(user_id), bit_id, correct) == (learner.legacy_key, int(card.legacy_key[4:]), True)
    assert v1_count("attempts") == before + 1
    assert OutboxEntry.objects.filter(entity="attempts", status=OutboxStatus.SENT).count() == 1

    # and pulling v1 (twice) does not bring it back as a v1 attempt
    v2_attempts = Attempt.objects.count()
    legacy_pull_once()
    legacy_pull_once()
    assert Attempt.objects.count() == v2_attempts

    # and draining again changes nothing in v1
    outbox_drain()
    assert v1_count("attempts") == before + 1


def test_ping_pong_a_v1_attempt_reaches_v2_once_and_is_never_pushed(tmp_path):
    # given v1 keeps writing after the backfill
    synced_world(tmp_path)
    learner, card = legacy_learner(), bit_card()
    v1_id = v1_attempt_insert(user_id=int(learner.legacy_key), bit_id=int(card.legacy_key[4:]))

    # when the pull runs (twice)
    first = legacy_pull_once()
    legacy_pull_once()

    # then v2 has it once, as a legacy row, on the bit's atom, with scheduler state
    assert first.pulled["attempts"] == 1
    pulled = Attempt.objects.get(origin=Origin.LEGACY, legacy_key=str(v1_id))
    assert (pulled.learner_id, pulled.atom_id) == (learner.pk, card.pk)
    assert LearnerAtomState.objects.filter(learner=learner, atom=card).exists()
    # and nothing is queued for v1
    assert not OutboxEntry.objects.exists()
    outbox_drain()
    assert v1_count("attempts", "id > %s", [v1_id]) == 0


def test_a_learner_new_in_v2_is_pushed_and_their_v1_attempts_are_theirs(tmp_path):
    # given a learner who signs up in v2
    synced_world(tmp_path)
    learner = user_create(email="new@example.com", password="a-long-password-1")
    learner.refresh_from_db()
    [(email,)] = v1("SELECT email FROM users WHERE id = %s", [int(learner.legacy_key)])
    assert email == "new@example.com"

    # when they practise in v1 too
    card = bit_card()
    v1_id = v1_attempt_insert(user_id=int(learner.legacy_key), bit_id=int(card.legacy_key[4:]))
    legacy_pull_once()

    # then the pulled attempt is theirs, and v1 did not get a second copy of the user
    assert Attempt.objects.get(legacy_key=str(v1_id)).learner_id == learner.pk
    assert v1_count("users", "email = %s", ["new@example.com"]) == 1
    assert User.objects.filter(email__iexact="new@example.com").count() == 1


def test_session_completed_in_v2_reaches_v1_and_in_v1_reaches_v2(tmp_path):
    synced_world(tmp_path)
    learner, card = legacy_learner(), bit_card()

    # a v2 session, answered and completed in v2: v1 gets the session, its attempt, its XP
    session = v2_session(learner, card)
    answer(learner, card, session=session)
    study_session_complete(session=session)
    session.refresh_from_db()
    [(completed, user_id)] = v1(
        "SELECT completed_at, user_id FROM sessions WHERE id = %s", [int(session.legacy_key)]
    )
    assert completed is not None and str(user_id) == learner.legacy_key
    assert v1_count("attempts", "session_id = %s", [int(session.legacy_key)]) == 1
    assert (
        v1_count("points", "user_id = %s AND reason = 'lesson_complete'", [int(learner.legacy_key)])
        >= 1
    )

    # a v1 session left open at the backfill, completed later in v1: v2 gets the completion
    open_session = (
        StudySession.objects.filter(origin=Origin.LEGACY, completed_at=None)
        .exclude(legacy_key__contains="@")
        .first()
    )
    assert open_session is not None
    StudySession.objects.filter(pk=open_session.pk).update(started_at=session.started_at)
    v1("UPDATE sessions SET started_at = %s, completed_at = %s WHERE id = %s",
       [session.started_at.replace(tzinfo=None),
        session.started_at.replace(tzinfo=None) + timedelta(minutes=10),
        int(open_session.legacy_key)])  # fmt: skip
    assert legacy_pull_once().completions == 1
    open_session.refresh_from_db()
    assert open_session.completed_at is not None


@pytest.mark.postgresql  # v1's edit is PostgreSQL SQL
def test_conflicting_completions_the_owner_wins_and_it_is_logged(tmp_path):
    # given a v1 session that v1 completes while v2 completes it too, differently
    synced_world(tmp_path)
    session = (
        StudySession.objects.filter(origin=Origin.LEGACY, completed_at=None)
        .exclude(legacy_key__contains="@")
        .first()
    )
    v1("UPDATE sessions SET completed_at = started_at + interval '5 minutes' WHERE id = %s",
       [int(session.legacy_key)])  # fmt: skip
    [(v1_completed,)] = v1(
        "SELECT completed_at FROM sessions WHERE id = %s", [int(session.legacy_key)]
    )

    # when v2 pushes its own completion, a different one
    study_session_complete(session=session, completed_at=timezone.now())

    # then v1 owns the row: its value stays on both sides, and the conflict is recorded
    [(kept,)] = v1("SELECT completed_at FROM sessions WHERE id = %s", [int(session.legacy_key)])
    assert kept == v1_completed
    session.refresh_from_db()
    assert session.completed_at.replace(tzinfo=None) == v1_completed
    conflict = SyncConflict.objects.get(entity="sessions", legacy_key=session.legacy_key)
    assert conflict.winner == "v1"


def test_rows_v1_cannot_hold_are_explained_v2_only(tmp_path):
    # given a native v2 course (no v1 chapter) — an atom whose concept has no v1 unit
    synced_world(tmp_path)
    learner = legacy_learner()
    card = bit_card()
    concept = card.live_concepts.first()
    concept.units.clear()  # its course no longer maps it to a v1 chapter
    concept.legacy_key = None
    concept.origin = Origin.V2
    concept.save()

    # when the learner answers on it
    attempt = answer(learner, card)

    # then the attempt is recorded as v2-only with the reason, never sent
    entry = OutboxEntry.objects.get(entity="attempts", v2_id=attempt.pk)
    assert entry.status == OutboxStatus.V2_ONLY
    assert "v2-only" in entry.last_error or "chapter" in entry.last_error
    # the attempt's XP (v1 awards points per lesson, not per answer) is v2-only too
    xp = XPEvent.objects.get(attempt=attempt)
    assert OutboxEntry.objects.get(entity="points", v2_id=xp.pk).status == OutboxStatus.V2_ONLY


@pytest.mark.postgresql  # v1's constraint is PostgreSQL DDL
@override_settings(LEGACY_OUTBOX_MAX_TRIES=2)
def test_a_row_v1_refuses_fails_alone_backs_off_goes_dead_and_staff_can_retry(tmp_path):
    # given v1 refuses big point amounts (a constraint of v1's own)
    synced_world(tmp_path)
    v1("ALTER TABLE points ADD CONSTRAINT small_amounts CHECK (amount < 15) NOT VALID")
    learner, card = legacy_learner(), bit_card()
    session = v2_session(learner, card)
    answer(learner, card, session=session)

    # when the session completes (+20 XP) the batch holds the session and the points
    study_session_complete(session=session)

    # then the session reached v1 and the points entry failed alone, with the error kept
    session.refresh_from_db()
    assert v1_count("sessions", "id = %s AND completed_at IS NOT NULL", [int(session.legacy_key)])
    failed = OutboxEntry.objects.get(entity="points", tries=1)
    assert failed.status == OutboxStatus.PENDING and "small_amounts" in failed.last_error
    assert failed.next_attempt_at is not None  # backing off

    # and after the last try it is dead
    OutboxEntry.objects.filter(pk=failed.pk).update(next_attempt_at=None)
    outbox_drain()
    failed.refresh_from_db()
    assert failed.status == OutboxStatus.DEAD

    # and once v1 accepts it, staff retry it and it goes out
    v1("ALTER TABLE points DROP CONSTRAINT small_amounts")
    from apps.legacy_sync.live.outbox.retry import outbox_entries_retry

    assert outbox_entries_retry(entry_ids=[failed.pk]) == 1
    outbox_drain()
    failed.refresh_from_db()
    assert failed.status == OutboxStatus.SENT


def test_legacy_sync_once_command_pulls_and_pushes(tmp_path, capsys):
    synced_world(tmp_path)
    learner, card = legacy_learner(), bit_card()
    v1_attempt_insert(user_id=int(learner.legacy_key), bit_id=int(card.legacy_key[4:]))
    attempt = answer(learner, card)  # pushed at once (eager Celery)
    # a second entry for the same row, as a resend after a lost acknowledgement leaves it
    OutboxEntry.objects.create(entity="attempts", v2_id=str(attempt.pk))
    before = v1_count("attempts")

    call_command("legacy_sync_once")

    out = capsys.readouterr().out
    assert "pulled attempts" in out and "Pulled 1 v1 rows. Pushed 1 outbox rows" in out
    assert v1_count("attempts") == before  # the resend was an upsert on the same v1 id


def test_the_kill_switch_pauses_both_directions_and_loses_nothing(tmp_path):
    synced_world(tmp_path)
    sync_flags_update(kill_switch=True)
    learner, card = legacy_learner(), bit_card()
    v1_id = v1_attempt_insert(user_id=int(learner.legacy_key), bit_id=int(card.legacy_key[4:]))
    attempt = answer(learner, card)  # learners keep working

    assert legacy_pull_once().skipped
    assert not Attempt.objects.filter(legacy_key=str(v1_id)).exists()
    entry = OutboxEntry.objects.get(entity="attempts", v2_id=attempt.pk)
    assert entry.status == OutboxStatus.PENDING

    sync_flags_update(kill_switch=False)
    legacy_pull_once()
    outbox_drain()
    assert Attempt.objects.filter(legacy_key=str(v1_id)).exists()
    entry.refresh_from_db()
    assert entry.status == OutboxStatus.SENT


def test_flashcard_type_atoms_published_in_v2_become_v1_flashcards(tmp_path):
    synced_world(tmp_path)
    card = bit_card()
    concept = card.live_concepts.first()
    from apps.content.services.atoms import ConceptWeightInput, atom_create

    atom = atom_create(
        by=None, title="Capital", atom_type="mcq", content={"prompt": "Capital of France?"},
        grading_logic={}, concept_weights=[ConceptWeightInput(concept)], status="published",
        options=[{"text": "Paris", "is_correct": True}, {"text": "Lyon", "is_correct": False}],
    )  # fmt: skip
    atom = LearningAtom.objects.get(pk=atom.pk)
    [(bit_id, front, back)] = v1(
        "SELECT bit_id, front, back FROM flashcards WHERE id = %s", [int(atom.legacy_key)]
    )
    assert (bit_id, front) == (int(concept.legacy_key), "Capital of France?")
    assert back == '{"options": ["Paris", "Lyon"], "correct_index": 0}'


def test_v1_profile_and_bit_edits_reach_v2_unless_v2_has_an_edit_on_its_way(tmp_path):
    synced_world(tmp_path)
    learner, other = User.objects.filter(origin=Origin.LEGACY).order_by("legacy_key")[:2]
    card = bit_card()
    concept = card.live_concepts.first()
    assert legacy_pull_once().profiles == 0  # nothing changed since the backfill

    # v1 renames both learners and retranslates a bit; v2's learner edits their own name,
    # which is still in the outbox (the kill switch holds it)
    v1("UPDATE users SET display_name = 'Renamed in v1' WHERE id IN (%s, %s)",
       [int(learner.legacy_key), int(other.legacy_key)])  # fmt: skip
    v1("UPDATE bits SET translation = 'nueva' WHERE id = %s", [int(concept.legacy_key)])
    sync_flags_update(kill_switch=True)
    from apps.accounts.services import user_update_profile

    user_update_profile(user=other, display_name="Edited in v2")
    sync_flags_update(kill_switch=False)

    from apps.legacy_sync.live.pull import profile_changes_pull

    assert profile_changes_pull(force=True) == 2
    learner.refresh_from_db()
    other.refresh_from_db()
    concept.refresh_from_db()
    assert learner.display_name == "Renamed in v1"
    assert other.display_name == "Edited in v2"  # not undone: it goes to v1 next
    assert concept.translation == "nueva"
    outbox_drain()
    [(name,)] = v1("SELECT display_name FROM users WHERE id = %s", [int(other.legacy_key)])
    assert name == "Edited in v2"


def test_a_display_name_edited_in_the_admin_reaches_v1_and_is_not_pulled_back(tmp_path):
    # given a migrated learner, dual write on, and an admin editing them
    from django.test import Client

    from tests.accounts.factories import UserFactory

    synced_world(tmp_path)
    learner = legacy_learner()
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    form = {"email": learner.email, "display_name": "Renamed in the admin",
            "timezone": learner.timezone, "is_active": "on",
            "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}  # fmt: skip

    # when the admin saves the change form
    response = admin.post(f"/admin/accounts/user/{learner.pk}/change/", form)

    # then the same outbox row as the API's profile edit is written, v1 gets the name on the
    # next sync, and a pull does not bring v1's old value back
    assert response.status_code == 302, response.content[:500]
    assert OutboxEntry.objects.filter(entity="users", v2_id=str(learner.pk)).count() == 1
    call_command("legacy_sync_once")
    from apps.legacy_sync.live.pull import profile_changes_pull

    profile_changes_pull(force=True)
    [(v1_name,)] = v1("SELECT display_name FROM users WHERE id = %s", [int(learner.legacy_key)])
    learner.refresh_from_db()
    assert v1_name == learner.display_name == "Renamed in the admin"
