"""The backfilled entities, in dependency order (the contract's entity names)."""

from .curriculum import Bits, Chapters, Flashcards
from .entity import Entity
from .json_files import JsonAttempts, JsonStreaks
from .people import Users
from .practice import Attempts, Sessions
from .records import MistakeLogs, Points, ReviewCards, Tasks, UserProfiles

ENTITY_ORDER = (
    "users",
    "chapters",
    "bits",
    "flashcards",
    "sessions",
    "attempts",
    "json_attempts",
    "review_cards",
    "mistake_logs",
    "points",
    "user_profiles",
    "tasks",
    "json_streaks",
)


def entities_build(*, json_dir=None) -> dict[str, Entity]:
    entities = {
        entity.name: entity
        for entity in (
            Users(), Chapters(), Bits(), Flashcards(), Sessions(), Attempts(),
            JsonAttempts(json_dir), ReviewCards(), MistakeLogs(), Points(), UserProfiles(),
            Tasks(), JsonStreaks(json_dir),
        )
    }  # fmt: skip
    assert tuple(entities) == ENTITY_ORDER
    return entities
