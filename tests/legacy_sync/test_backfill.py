"""The v1 → v2 backfill on a dirty fixture: where every bad row ends, conservation, session
splitting and flashcard types (apps/legacy_sync/backfill/)."""

import pytest

from apps.accounts.models import User
from apps.content.models import LearningAtom
from apps.core.models import Origin
from apps.curriculum.models import Unit
from apps.learning.models import Attempt, StudySession
from apps.legacy_sync.models import QuarantinedRow, StreakComparison
from apps.legacy_sync.status import conservation_report
from apps.legacy_sync.v1.fixture import DIRTY_KINDS
from apps.legacy_sync.v1.models import (
    LegacyAttempt,
    LegacyBit,
    LegacyFlashcard,
    LegacyMistakeLog,
    LegacyPoint,
    LegacyReviewCard,
    LegacySession,
    LegacyTask,
    LegacyUser,
)

from .backfill_helpers import (
    BAD_SESSIONS,
    DUPLICATE_EMAIL_USERS,
    ENTITY_NAMES,
    JUNK_TIMEZONE_USER,
    QUARANTINED_USERS,
    SPANNING_ATTEMPT,
    WITHOUT_FLASHCARDS,
    backfill,
    dirty_legacy_build,
    quarantine,
)

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)


def test_every_dirty_row_kind_ends_where_the_rules_say(tmp_path):
    # given the dirty fixture, with every kind of bad row
    report = dirty_legacy_build(tmp_path)
    assert set(report.dirty) == set(DIRTY_KINDS)

    # when it is backfilled
    run = backfill(tmp_path)

    # then each bad row is quarantined with its machine-readable reason
    assert run.status == "done"
    held = quarantine()
    assert held[("users", "2")] == ("duplicate_email", "")  # duplicate_email
    assert held[("users", "3")] == ("duplicate_email", "")  # case_variant_email
    assert held[("users", JUNK_TIMEZONE_USER)] == ("invalid_timezone", "")
    for session, reason in BAD_SESSIONS.items():
        assert held[("sessions", session)] == (reason, "")
    assert held[("attempts", "1")] == ("unknown_bit", "")
    assert held[("attempts", "2")] == ("unknown_user", "")
    assert held[("flashcards", "1")] == ("malformed_json_back", "")
    assert held[("flashcards", "2")] == ("empty_front", "")
    # and the detail says what was wrong, for staff
    details = {(q.entity, q.legacy_key): q.detail for q in QuarantinedRow.objects.all()}
    assert "user1@example.com already belongs to v1 user 1" in details[("users", "2")]
    assert "'Mars/Base'" in details[("users", "4")]
    assert "1050" in details[("attempts", "1")]  # bits + 1000: not in v1
    # and the keeper of the address is user 1, the lowest v1 id
    assert User.objects.get(email="user1@example.com").legacy_key == "1"

    # and the session spanning chapters is split instead of quarantined
    assert ("attempts", SPANNING_ATTEMPT) not in held
    assert StudySession.objects.filter(legacy_key__contains="@").count() == 1

    # and streaks.json keys like "user_1" are read as user 1 and compared
    compared = dict(
        StreakComparison.objects.filter(entity="json_streaks").values_list(
            "legacy_key", "learner__legacy_key"
        )
    )
    assert compared == {"user_1": "1", "11": "11", "user_21": "21", "31": "31"}
    assert not any(entity == "json_streaks" for entity, _ in held)
    # (json_attempt_duplicates_db: see test_backfill_json.py, the fixture misplaces that copy)

    # and each quarantined row holds the legacy row as v1 had it, for staff to fix
    def raw(entity, key):
        return QuarantinedRow.objects.get(entity=entity, legacy_key=key).raw

    duplicate = raw("users", "2")
    assert set(duplicate) == {"id", "email", "display_name", "timezone", "created_at"}
    assert (duplicate["id"], duplicate["email"], duplicate["display_name"]) == (
        2, "user1@example.com", "Dup",
    )  # fmt: skip
    assert duplicate["timezone"] == "Europe/London"
    assert duplicate["created_at"].startswith("2025-05-02")  # the v1 value, as ISO text
    assert raw("users", "3")["email"] == "USER1@Example.com"  # not normalised
    assert raw("users", "4")["timezone"] == "Mars/Base"
    assert raw("sessions", "1")["started_at"] is None
    assert raw("sessions", "2")["started_at"].startswith("2099-01-01")
    assert raw("flashcards", "1")["back"] == '{"options": ["a", "b"'
    assert raw("flashcards", "2")["front"] == ""
    assert raw("attempts", "1")["bit_id"] == 1050
    assert raw("attempts", "2")["user_id"] == 1040
    # every quarantined row holds all the columns of its legacy row
    columns = {f.attname for f in LegacyAttempt._meta.concrete_fields}
    assert columns <= set(raw("attempts", "1"))


def test_dependents_of_quarantined_rows_wait_for_their_parent(tmp_path):
    dirty_legacy_build(tmp_path)

    backfill(tmp_path, names=WITHOUT_FLASHCARDS)

    held = quarantine()
    # every row of a quarantined user waits for that user, whatever table it is in
    user_rows = {
        "sessions": LegacySession,
        "review_cards": LegacyReviewCard,
        "mistake_logs": LegacyMistakeLog,
        "points": LegacyPoint,
        "tasks": LegacyTask,
    }
    for entity, model in user_rows.items():
        for key, user in model.objects.filter(user_id__in=[2, 3, 4]).values_list("pk", "user_id"):
            assert held[(entity, str(key))] == ("parent_quarantined", f"users:{user}"), entity
    for user in QUARANTINED_USERS:
        assert held[("user_profiles", user)] == ("parent_quarantined", f"users:{user}")
    # an attempt waits for its quarantined user first, else for its quarantined session
    expected = {}
    for key, user, session in LegacyAttempt.objects.exclude(pk__in=[1, 2]).values_list(
        "pk", "user_id", "session_id"
    ):
        if str(user) in QUARANTINED_USERS:
            expected[str(key)] = ("parent_quarantined", f"users:{user}")
        elif str(session) in BAD_SESSIONS:
            expected[str(key)] = ("parent_quarantined", f"sessions:{session}")
    attempts_held = {k: v for (e, k), v in held.items() if e == "attempts" and k not in {"1", "2"}}
    assert attempts_held == expected
    assert {blocked for _, blocked in expected.values()} == {
        "users:4", "sessions:1", "sessions:2", "sessions:3",
    }  # fmt: skip
    # and nothing waits for a row that is not itself quarantined
    for reason, blocked in held.values():
        if reason == "parent_quarantined":
            entity, _, key = blocked.partition(":")
            assert (entity, key) in held


def test_conservation_every_legacy_row_is_migrated_or_quarantined(tmp_path):
    dirty_legacy_build(tmp_path)

    backfill(tmp_path)

    report = {row["entity"]: row for row in conservation_report(json_dir=tmp_path)}
    assert list(report) == ENTITY_NAMES
    for name, row in report.items():
        assert row["holds"], name
        assert row["legacy"] == row["migrated"] + row["quarantined"], name
        assert row["pending"] == 0 and row["seen"] == row["legacy"], name
    figures = {n: (r["legacy"], r["migrated"], r["quarantined"]) for n, r in report.items()}
    assert figures["users"] == (40, 37, 3)
    assert figures["chapters"] == (4, 4, 0)
    assert figures["bits"] == (50, 50, 0)
    assert figures["flashcards"] == (60, 58, 2)
    assert figures["sessions"] == (60, 53, 7)  # 3 bad, 4 of user 4
    assert figures["attempts"] == (400, 365, 35)
    # 4 sampled files of 5, and the last DB attempt's learner's 5 plus its duplicate
    assert figures["json_attempts"] == (26, 26, 0)
    assert figures["review_cards"] == (120, 111, 9)
    assert figures["json_streaks"] == (4, 4, 0)
    for name in ("mistake_logs", "points", "user_profiles", "tasks"):
        assert figures[name] == (40, 37, 3)


def test_attempt_on_another_chapters_bit_moves_to_a_split_session(tmp_path):
    dirty_legacy_build(tmp_path)
    spanning = LegacyAttempt.objects.get(pk=SPANNING_ATTEMPT)
    chapter = LegacyBit.objects.get(pk=spanning.bit_id).chapter_id
    own = LegacySession.objects.get(pk=spanning.session_id)
    assert chapter != own.chapter_id

    backfill(tmp_path, names=WITHOUT_FLASHCARDS)

    attempt = Attempt.objects.select_related("session").get(legacy_key=SPANNING_ATTEMPT)
    split = attempt.session
    original = StudySession.objects.get(legacy_key=str(own.pk))
    assert split.legacy_key == f"{own.pk}@{chapter}"
    assert split.origin == Origin.LEGACY
    assert split.learner_id == original.learner_id == attempt.learner_id
    assert split.learner.legacy_key == str(own.user_id)
    assert (split.started_at, split.completed_at) == (original.started_at, original.completed_at)
    assert split.course_id == Unit.objects.get(legacy_key=str(chapter)).course_id
    # the session's other attempts stay in the original
    others = LegacyAttempt.objects.filter(session_id=own.pk).exclude(pk=spanning.pk)
    assert set(
        Attempt.objects.filter(legacy_key__in=[str(a.pk) for a in others]).values_list(
            "session__legacy_key", flat=True
        )
    ) == {str(own.pk)}
    # and the split session is not counted as a v1 session of its own
    row = next(r for r in conservation_report(json_dir=tmp_path) if r["entity"] == "sessions")
    assert row["migrated"] == StudySession.objects.exclude(legacy_key__contains="@").count()


def test_migrated_flashcards_are_published_atoms_of_the_inferred_type(tmp_path):
    dirty_legacy_build(tmp_path)
    backs = dict(LegacyFlashcard.objects.values_list("pk", "back"))

    backfill(tmp_path)

    atoms = LearningAtom.objects.filter(origin=Origin.LEGACY).select_related("published_revision")
    cards = {int(a.legacy_key): a for a in atoms if not a.legacy_key.startswith("bit:")}
    bit_cards = [a for a in atoms if a.legacy_key.startswith("bit:")]
    assert set(cards) == set(backs) - {1, 2}  # 1 and 2 are quarantined
    assert len(bit_cards) == 50 and {a.atom_type for a in bit_cards} == {"flashcard"}
    # the fixture's three back formats: plain text, mcq JSON and Parsons JSON
    for key, atom in cards.items():
        back = backs[key]
        if back.startswith('{"options"'):
            assert atom.atom_type == "mcq", key
        elif back.startswith('{"blocks"'):
            assert atom.atom_type == "parsons", key
        else:
            assert atom.atom_type == "flashcard" and atom.content["back"] == back, key
    assert {a.atom_type for a in cards.values()} == {"mcq", "parsons", "flashcard"}
    for atom in atoms:
        assert atom.status == "published", atom.legacy_key
        assert atom.published_revision is not None, atom.legacy_key
        assert atom.published_revision.source == "legacy_import", atom.legacy_key
    # an mcq's right option is the one v1's correct_index named
    mcq = next(a for a in cards.values() if a.atom_type == "mcq")
    bit = LegacyFlashcard.objects.get(pk=mcq.legacy_key).bit_id
    assert list(mcq.options.filter(is_correct=True).values_list("text", flat=True)) == [
        f"translation{bit}"
    ]


def test_users_become_learners_and_the_lowest_id_keeps_a_shared_address(tmp_path):
    dirty_legacy_build(tmp_path)
    legacy = {u.pk: u for u in LegacyUser.objects.all()}

    backfill(tmp_path, names=["users"])

    learners = {int(u.legacy_key): u for u in User.objects.filter(origin=Origin.LEGACY)}
    assert set(learners) == set(range(1, 41)) - {int(k) for k in QUARANTINED_USERS}
    assert not DUPLICATE_EMAIL_USERS & {str(k) for k in learners}
    assert User.objects.filter(email__iexact="user1@example.com").count() == 1
    for key, learner in learners.items():
        assert learner.email == legacy[key].email.lower()
        assert learner.display_name == legacy[key].display_name
        assert learner.timezone == (legacy[key].timezone or "UTC")  # v1's NULL means UTC
        assert not learner.has_usable_password()  # they log in after a password reset
