"""The backfill's mapper of each v1 entity, in the registry's order (v1/entities.py)."""

from ..v1.entities import ENTITY_ORDER
from .curriculum import Bits, Chapters, Flashcards
from .entity import Entity
from .json_files import JsonAttempts, JsonStreaks
from .people import Users
from .practice import Attempts, Sessions
from .records import MistakeLogs, Points, ReviewCards, Tasks, UserProfiles


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
