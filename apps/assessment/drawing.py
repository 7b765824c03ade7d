"""Drawing a test from a blueprint: plain Python, no Django (the selectors build the pools).

Each section needs ``count`` distinct atoms from its pool. An atom can sit in several pools
(its concept belongs to two units, say) but appears in a test once, so the sections with the
smallest pools choose first. Atoms of the learner's previous test are used only when a
section's pool has too few others.
"""

import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SectionPool:
    key: Hashable  # identifies the section to the caller
    count: int
    atom_ids: frozenset


@dataclass(frozen=True)
class Shortfall:
    key: Hashable
    needed: int
    available: int


class PoolTooSmall(Exception):
    def __init__(self, shortfalls: list[Shortfall]):
        self.shortfalls = shortfalls
        super().__init__(shortfalls)


def draw(
    sections: Sequence[SectionPool], *, avoid: frozenset = frozenset(), rng: random.Random
) -> dict[Hashable, list]:
    """Atoms per section key, ``count`` each, all distinct; raises PoolTooSmall naming every
    section that cannot be filled (never a short test)."""
    taken: set = set()
    chosen: dict[Hashable, list] = {}
    shortfalls = []
    for section in sorted(sections, key=lambda s: (len(s.atom_ids) - s.count, str(s.key))):
        free = sorted(section.atom_ids - taken, key=str)  # sorted: the rng alone decides
        if len(free) < section.count:
            shortfalls.append(Shortfall(section.key, section.count, len(free)))
            continue
        fresh = [atom for atom in free if atom not in avoid]
        if len(fresh) >= section.count:
            picked = rng.sample(fresh, section.count)
        else:
            seen_last_time = [atom for atom in free if atom in avoid]
            picked = fresh + rng.sample(seen_last_time, section.count - len(fresh))
        rng.shuffle(picked)
        taken.update(picked)
        chosen[section.key] = picked
    if shortfalls:
        raise PoolTooSmall(shortfalls)
    return chosen
