"""The one registry of v1's entities: each one's v1 table, the v2 model its rows become and
its key. Backfill, pull, outbox, reconciliation and status read it; the order is the
backfill's dependency order."""

from dataclasses import dataclass

from django.apps import apps


@dataclass(frozen=True)
class V1Entity:
    name: str  # the contract's entity name
    table: str  # v1's table ("" for a JSON file family)
    v2_model: str  # "app_label.Model" holding the migrated rows (or their comparison)
    key: str = "id"
    key_is_text: bool = False
    pulled: bool = True  # pulled live row by row (pull.py)?

    @property
    def json_only(self) -> bool:
        return not self.table

    @property
    def model(self) -> type:
        return apps.get_model(self.v2_model)


ENTITIES: tuple[V1Entity, ...] = (
    V1Entity("users", "users", "accounts.User"),
    V1Entity("chapters", "chapters", "curriculum.Unit"),
    V1Entity("bits", "bits", "curriculum.Concept"),
    V1Entity("flashcards", "flashcards", "content.LearningAtom"),
    V1Entity("sessions", "sessions", "learning.StudySession"),
    V1Entity("attempts", "attempts", "learning.Attempt"),
    V1Entity("json_attempts", "", "learning.Attempt", pulled=False),
    V1Entity("review_cards", "review_cards", "scheduler.LearnerAtomState"),
    V1Entity("mistake_logs", "mistake_logs", "learning.Mistake"),
    V1Entity("points", "points", "learning.XPEvent"),
    # Cached streaks are compared, not copied; profile edits are pulled whole (pull.py).
    V1Entity("user_profiles", "user_profiles", "legacy_sync.StreakComparison", key="user_id",
             pulled=False),
    V1Entity("tasks", "tasks", "learning.StudyTask", key_is_text=True),
    V1Entity("json_streaks", "", "legacy_sync.StreakComparison", pulled=False),
)  # fmt: skip
BY_NAME = {entity.name: entity for entity in ENTITIES}
ENTITY_ORDER = tuple(BY_NAME)
# v1's tables, parents before the tables that reference them.
V1_TABLES = tuple(e.table for e in ENTITIES if not e.json_only)
# The tables whose integer ids come from a sequence.
SERIAL_TABLES = tuple(e.table for e in ENTITIES if e.key == "id" and not e.key_is_text and e.table)
PULLED = tuple(e.name for e in ENTITIES if e.pulled)

# v1 point reasons → v2 XP reasons (XPReason values). Anything else is quarantined.
POINT_REASONS = {
    "lesson_complete": "session_complete",
    "streak_bonus": "streak_bonus",
    "mastery_bonus": "mastery_bonus",
}
V1_POINT_REASONS = {v2: v1 for v1, v2 in POINT_REASONS.items()}
