"""What the backfill tests share: the dirty v1 fixture they run on, and views of the result.

The fixture's dirty rows sit at fixed places (apps/legacy_sync/v1/fixture.py), so the tests name
them: users 2 and 3 reuse user 1's address, user 4 has a junk time zone, sessions 1-3 have bad
timestamps, attempts 1 and 2 point at a missing bit and user, attempt 3 is on another chapter's
bit, and flashcards 1 and 2 have a broken back and an empty front.
"""

from apps.accounts.models import User
from apps.content.models import LearningAtom
from apps.curriculum.models import Concept, Course, Unit
from apps.learning.models import Attempt, Mistake, StudySession, StudyTask, XPEvent
from apps.legacy_sync.backfill.runner import backfill_run
from apps.legacy_sync.models import (
    BackfillCheckpoint,
    MergedLegacyRow,
    QuarantinedRow,
    StreakComparison,
)
from apps.legacy_sync.v1.fixture import legacy_fixture_build
from apps.scheduler.models import LearnerAtomState, LearnerConceptState

BATCH_SIZE = 50  # small, so every big entity runs in several batches

ENTITY_NAMES = [
    "users", "chapters", "bits", "flashcards", "sessions", "attempts", "json_attempts",
    "review_cards", "mistake_logs", "points", "user_profiles", "tasks", "json_streaks",
]  # fmt: skip

# Every stage but flashcards, the slowest one (an atom per card), for tests that do not look
# at flashcards: bits still get their own flashcard atoms, which attempts map to.
WITHOUT_FLASHCARDS = [name for name in (*ENTITY_NAMES, "learner_states") if name != "flashcards"]

DUPLICATE_EMAIL_USERS = {"2", "3"}
JUNK_TIMEZONE_USER = "4"
QUARANTINED_USERS = DUPLICATE_EMAIL_USERS | {JUNK_TIMEZONE_USER}
BAD_SESSIONS = {"1": "missing_timestamp", "2": "future_timestamp", "3": "completed_before_started"}
SPANNING_ATTEMPT = "3"


def dirty_legacy_build(json_dir):
    return legacy_fixture_build(users=40, sessions=60, attempts=400, bits=50, seed=1,
                                dirty=True, json_dir=json_dir)  # fmt: skip


def backfill(json_dir, **options):
    return backfill_run(json_dir=json_dir, batch_size=BATCH_SIZE, **options)


COUNTED = {
    "users": User,
    "courses": Course,
    "units": Unit,
    "concepts": Concept,
    "atoms": LearningAtom,
    "sessions": StudySession,
    "attempts": Attempt,
    "xp_events": XPEvent,
    "mistakes": Mistake,
    "tasks": StudyTask,
    "atom_states": LearnerAtomState,
    "concept_states": LearnerConceptState,
    "quarantined": QuarantinedRow,
    "merged": MergedLegacyRow,
    "streak_comparisons": StreakComparison,
}


def v2_counts() -> dict[str, int]:
    return {name: model.objects.count() for name, model in COUNTED.items()}


def quarantine() -> dict[tuple[str, str], tuple[str, str]]:
    """{(entity, legacy key): (reason, blocked_by)}"""
    return {
        (row.entity, row.legacy_key): (row.reason, row.blocked_by)
        for row in QuarantinedRow.objects.all()
    }


def seen_counts() -> dict[tuple[str, str], int]:
    return dict(
        ((entity, key), n)
        for entity, key, n in QuarantinedRow.objects.values_list(
            "entity", "legacy_key", "seen_count"
        )
    )


def checkpoints() -> dict[str, tuple[str, int, bool]]:
    return {
        c.entity: (c.last_key, c.rows_seen, c.finished) for c in BackfillCheckpoint.objects.all()
    }


def migration_snapshot() -> dict:
    """What a user would notice of a finished backfill, free of ids that differ between runs
    (atoms and states get random ids; learners, sessions and attempts deterministic ones)."""
    return {
        "attempts": sorted(
            Attempt.objects.values_list(
                "legacy_key",
                "learner__legacy_key",
                "atom__legacy_key",
                "session__legacy_key",
                "correct",
                "answered_at",
            )
        ),
        "sessions": sorted(
            StudySession.objects.values_list(
                "legacy_key", "learner__legacy_key", "course__legacy_key", "started_at"
            )
        ),
        "quarantine": sorted(
            QuarantinedRow.objects.values_list(
                "entity", "legacy_key", "reason", "blocked_by", "seen_count"
            )
        ),
        "merged": sorted(
            MergedLegacyRow.objects.values_list("entity", "legacy_key", "merged_into")
        ),
        "atom_states": sorted(
            (learner, atom, reviews, lapses, sorted(state.items()))
            for learner, atom, reviews, lapses, state in LearnerAtomState.objects.values_list(
                "learner__legacy_key", "atom__legacy_key", "reviews", "lapses", "state"
            )
        ),
        "concept_states": sorted(
            (learner, concept, n, right, round(p_known, 9), half_life)
            for learner, concept, n, right, p_known, half_life in (
                LearnerConceptState.objects.values_list(
                    "learner__legacy_key",
                    "concept__legacy_key",
                    "attempts",
                    "correct_attempts",
                    "p_known",
                    "half_life_days",
                )
            )
        ),
        "streaks": sorted(
            StreakComparison.objects.values_list("entity", "legacy_key", "v2_current", "v2_longest")
        ),
        "rows_seen": {c.entity: c.rows_seen for c in BackfillCheckpoint.objects.all()},
    }
