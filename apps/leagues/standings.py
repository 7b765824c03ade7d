"""Ranking a league and deciding who moves, from plain numbers. Pure: no Django.

Rank by the week's XP, highest first; a tie goes to who joined the league first, then to the
learner's id, so a rank never changes between two reads of the same figures. The top
``promotion_slots`` move up a tier when they earned any XP that week; the bottom
``demotion_slots`` move down. Nobody moves above the highest tier or below the lowest.
"""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from math import ceil

LEAGUE_SIZE_MAX = 30
PROMOTE_MAX = 5
DEMOTE_MAX = 5

PROMOTION = "promotion"
DEMOTION = "demotion"
SAFE = "safe"


@dataclass(frozen=True)
class Entry:
    key: Hashable  # the learner, never shown
    xp: int
    joined_at: datetime


@dataclass(frozen=True)
class Standing:
    key: Hashable
    rank: int  # 1 is the top
    xp: int
    zone: str  # PROMOTION, DEMOTION or SAFE


def move_slots(size: int, *, top_tier: bool, bottom_tier: bool) -> tuple[int, int]:
    """(promoted, demoted) for a league of ``size``: a fifth each way (up at least one, so a
    small league can still move up), at most PROMOTE_MAX / DEMOTE_MAX, never overlapping."""
    promote = 0 if top_tier else min(PROMOTE_MAX, ceil(size / 5))
    demote = 0 if bottom_tier else min(DEMOTE_MAX, size // 5, size - promote)
    return promote, demote


def rank(entries: Sequence[Entry], *, top_tier: bool, bottom_tier: bool) -> list[Standing]:
    ordered = sorted(entries, key=lambda e: (-e.xp, e.joined_at, str(e.key)))
    promote, demote = move_slots(len(ordered), top_tier=top_tier, bottom_tier=bottom_tier)
    standings = []
    for position, entry in enumerate(ordered, start=1):
        if position <= promote and entry.xp > 0:
            zone = PROMOTION
        elif position > len(ordered) - demote:
            zone = DEMOTION
        else:
            zone = SAFE
        standings.append(Standing(entry.key, position, entry.xp, zone))
    return standings


def split_by_xp(candidates: Sequence[tuple[Hashable, int]], size_max: int = LEAGUE_SIZE_MAX):
    """New leagues for ``candidates`` (key, reference XP): sorted by XP, cut into the fewest
    groups of at most ``size_max``, as even as possible, so neighbours in XP meet."""
    ordered = sorted(candidates, key=lambda c: (-c[1], str(c[0])))
    if not ordered:
        return []
    groups = ceil(len(ordered) / size_max)
    base, extra = divmod(len(ordered), groups)
    result, start = [], 0
    for index in range(groups):
        end = start + base + (1 if index < extra else 0)
        result.append([key for key, _ in ordered[start:end]])
        start = end
    return result


def fit_into(
    candidates: Sequence[tuple[Hashable, int]],
    leagues: Sequence[tuple[Hashable, int, float]],
    size_max: int = LEAGUE_SIZE_MAX,
) -> tuple[dict[Hashable, Hashable], list[list[Hashable]]]:
    """Place ``candidates`` (key, reference XP) into existing ``leagues`` (key, size, mean
    reference XP): each into the league with room whose mean is nearest its XP, the closest
    fits first. Returns the placements and, for those no league had room for, new groups
    (``split_by_xp``)."""
    room = {key: size_max - size for key, size, _ in leagues}
    means = {key: mean for key, _, mean in leagues}
    placed: dict[Hashable, Hashable] = {}
    left: list[tuple[Hashable, int]] = []

    # closest fits first, so that an outlier does not take the last seat of a league that
    # fits someone else better
    def distance(candidate) -> float:
        return min((abs(mean - candidate[1]) for mean in means.values()), default=0.0)

    for key, xp in sorted(candidates, key=lambda c: (distance(c), -c[1], str(c[0]))):
        open_leagues = [league for league, free in room.items() if free > 0]
        if not open_leagues:
            left.append((key, xp))
            continue
        best = min(open_leagues, key=lambda league: abs(means[league] - xp))
        placed[key] = best
        room[best] -= 1
    return placed, split_by_xp(left, size_max)
