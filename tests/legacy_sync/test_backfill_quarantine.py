"""Staff fix a quarantined row's ``raw`` and retry it; the rows waiting for it follow
(backfill/quarantine.py)."""

import pytest

from apps.accounts.models import User
from apps.core.models import Origin
from apps.learning.models import Attempt, StudySession
from apps.legacy_sync.backfill.quarantine import quarantine_retry
from apps.legacy_sync.models import QuarantinedRow
from apps.legacy_sync.status import conservation_report
from apps.legacy_sync.v1.models import LegacyAttempt, LegacySession
from apps.scheduler.models import LearnerConceptState

from .backfill_helpers import WITHOUT_FLASHCARDS, backfill, dirty_legacy_build

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)


def held_user(key: str) -> QuarantinedRow:
    return QuarantinedRow.objects.get(entity="users", legacy_key=key)


def fix_and_retry(json_dir) -> dict:
    """Staff give duplicate-email user 2 an address of its own and junk-time-zone user 4 a
    real zone, then retry both."""
    duplicate, junk = held_user("2"), held_user("4")
    duplicate.raw["email"] = "dup.two@example.com"
    junk.raw["timezone"] = "Europe/Paris"
    duplicate.save(update_fields=["raw"])
    junk.save(update_fields=["raw"])
    return quarantine_retry([duplicate, junk], json_dir=json_dir)


def conservation(json_dir) -> dict:
    return {r["entity"]: r for r in conservation_report(json_dir=json_dir)}


def test_fixed_users_migrate_on_retry_and_release_the_rows_waiting_for_them(tmp_path):
    # given a backfill that quarantined users 2 and 4 and, with them, their rows
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=WITHOUT_FLASHCARDS)
    waiting = {
        user: set(
            QuarantinedRow.objects.filter(blocked_by=f"users:{user}").values_list(
                "entity", "legacy_key"
            )
        )
        for user in ("2", "4")
    }
    assert {e for e, _ in waiting["2"]} == {
        "review_cards", "mistake_logs", "points", "user_profiles", "tasks",
    }  # fmt: skip
    assert {"sessions", "attempts"} <= {e for e, _ in waiting["4"]}
    held_before = QuarantinedRow.objects.count()

    # when staff fix their rows and retry them
    totals = fix_and_retry(tmp_path)

    # then both users exist, as migrated learners with the fixed values
    released = len(waiting["2"]) + len(waiting["4"])
    assert totals == {"migrated": 2 + released, "still_quarantined": 0}
    two = User.objects.get(legacy_key="2", origin=Origin.LEGACY)
    four = User.objects.get(legacy_key="4", origin=Origin.LEGACY)
    assert (two.email, two.display_name) == ("dup.two@example.com", "Dup")
    assert (four.email, four.timezone) == ("user4@example.com", "Europe/Paris")
    # and their quarantine rows are gone, with every row that waited for them
    assert not QuarantinedRow.objects.filter(entity="users", legacy_key__in=["2", "4"]).exists()
    assert not QuarantinedRow.objects.filter(blocked_by__in=["users:2", "users:4"]).exists()
    assert QuarantinedRow.objects.count() == held_before - 2 - released
    assert held_user("3").reason == "duplicate_email"  # not retried: still held
    # and user 4's v1 sessions and attempts are now theirs in v2
    sessions = {
        str(pk) for pk in LegacySession.objects.filter(user_id=4).values_list("pk", flat=True)
    }
    assert len(sessions) == 4
    assert (
        set(StudySession.objects.filter(learner=four).values_list("legacy_key", flat=True))
        == sessions
    )
    v1_attempts = LegacyAttempt.objects.filter(user_id=4).values_list("pk", "bit_id", "correct")
    assert sorted(
        Attempt.objects.filter(learner=four).values_list(
            "legacy_key", "atom__legacy_key", "correct"
        )
    ) == sorted((str(pk), f"bit:{bit}", correct) for pk, bit, correct in v1_attempts)
    # and conservation still holds for every entity run
    report = conservation(tmp_path)
    assert report.pop("flashcards")["pending"] == 60  # not run here
    for name, row in report.items():
        assert row["holds"], name
    assert (report["users"]["migrated"], report["users"]["quarantined"]) == (39, 1)


def test_a_retry_that_still_fails_keeps_the_row_with_its_new_reason(tmp_path):
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=["users"])
    row = held_user("2")
    row.raw["email"] = "not an address"
    row.save(update_fields=["raw"])

    totals = quarantine_retry([row], json_dir=tmp_path)

    assert totals == {"migrated": 0, "still_quarantined": 1}
    row.refresh_from_db()
    assert row.reason == "invalid_email"
    assert row.raw["email"] == "not an address"  # the staff edit is kept
    assert (row.retry_count, row.seen_count) == (1, 2)
    assert row.last_retry_at is not None
    assert not User.objects.filter(legacy_key="2").exists()


def test_learner_released_from_quarantine_gets_scheduler_state_on_the_next_run(tmp_path):
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=WITHOUT_FLASHCARDS)
    fix_and_retry(tmp_path)
    four = User.objects.get(legacy_key="4")
    assert Attempt.objects.filter(learner=four).count() > 10

    backfill(tmp_path, names=WITHOUT_FLASHCARDS)

    assert LearnerConceptState.objects.filter(learner=four).exists()


def test_learner_released_by_a_retry_has_states_built_from_history(tmp_path):
    # given user 4 quarantined (junk time zone) with their sessions and attempts
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=WITHOUT_FLASHCARDS)

    # when staff fix the user and retry, with no backfill run afterwards
    fix_and_retry(tmp_path)

    # then the retry itself gave user 4 concept states that count every attempt of theirs
    four = User.objects.get(legacy_key="4")
    attempts = Attempt.objects.filter(learner=four).count()
    states = LearnerConceptState.objects.filter(learner=four)
    assert attempts > 10
    assert sum(states.values_list("attempts", flat=True)) == attempts
    assert all(s.half_life_days in (1.0, 3.0, 7.0) for s in states)


def test_attempt_released_for_a_learner_with_states_is_replayed_into_them(tmp_path):
    # given a migrated learner, practised on a bit more than once, one of whose attempts there
    # was quarantined for a missing verdict
    dirty_legacy_build(tmp_path)
    seen = set()
    for attempt in LegacyAttempt.objects.filter(user_id__gt=10, user_id__lte=40).order_by("pk"):
        if (attempt.user_id, attempt.bit_id) in seen:
            break
        seen.add((attempt.user_id, attempt.bit_id))
    LegacyAttempt.objects.filter(pk=attempt.pk).update(correct=None)
    learner = str(attempt.user_id)
    backfill(tmp_path, names=WITHOUT_FLASHCARDS)
    held = QuarantinedRow.objects.get(entity="attempts", legacy_key=str(attempt.pk))
    assert held.reason == "missing_verdict"
    concept = f"{attempt.bit_id}"
    before = LearnerConceptState.objects.get(
        learner__legacy_key=learner, concept__legacy_key=concept
    ).attempts

    # when staff set the verdict and retry
    held.raw["correct"] = True
    held.save(update_fields=["raw"])
    quarantine_retry([held], json_dir=tmp_path)

    # then the learner's state for that concept now includes the attempt
    after = LearnerConceptState.objects.get(
        learner__legacy_key=learner, concept__legacy_key=concept
    )
    assert after.attempts == before + 1
    assert not QuarantinedRow.objects.filter(pk=held.pk).exists()
