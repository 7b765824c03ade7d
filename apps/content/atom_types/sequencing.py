"""Helpers shared by the sequencing atom types (parsons, ordering): the learner-facing order of
items, mapping rendered ids back to authored indexes, and longest-common-subsequence scoring.

This module defines no AtomType, so the registry's auto-discovery registers nothing from it.
"""

from collections.abc import Hashable, Sequence
from itertools import pairwise

from .base import ResponseValidationError, stable_permutation

# Upper bound on blocks/items per atom and on ids per response (keeps grading cheap).
MAX_ITEMS = 100


def display_order(seed: str, keys: Sequence[Hashable], solution: Sequence[int]) -> list[int]:
    """Authored indexes in the order learners see them: ``result[position] = authored index``.

    Starts from ``stable_permutation(seed, len(keys))``. ``keys`` identify items (their texts:
    identical texts are interchangeable) and ``solution`` is the correct sequence of authored
    indexes. If the solution's items would still appear in solution order (the solution need
    not be the authored order, and parsons distractors may shuffle around an ordered
    solution), two adjacent solution items with different texts swap places, so the rendering
    never shows the answer.
    """
    order = stable_permutation(seed, len(keys))
    members = set(solution)
    shown = [keys[i] for i in order if i in members]
    if shown == [keys[i] for i in solution]:
        for first, second in pairwise(solution):
            if keys[first] != keys[second]:
                a, b = order.index(first), order.index(second)
                order[a], order[b] = order[b], order[a]
                break
    return order


def rendered_items(texts: Sequence[str], order: Sequence[int]) -> list[dict]:
    """``[{"id": position, "text": ...}]`` in display order; ids never reveal authored order."""
    return [{"id": position, "text": texts[index]} for position, index in enumerate(order)]


def ids_to_indexes(ids: Sequence[int], order: Sequence[int], path: str) -> list[int]:
    """Map a learner's rendered ids back to authored indexes; reject unknown or repeated ids."""
    errors: dict[str, list[str]] = {}
    for position, item_id in enumerate(ids):
        if not 0 <= item_id < len(order):
            errors[f"{path}.{position}"] = [
                f"No item with id {item_id}; ids run from 0 to {len(order) - 1}."
            ]
    if len(set(ids)) != len(ids):
        errors.setdefault(path, []).append("Each id may appear only once.")
    if errors:
        raise ResponseValidationError(errors)
    return [order[item_id] for item_id in ids]


def lcs_length(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Length of the longest common subsequence of ``a`` and ``b``."""
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def lcs_score(answer: Sequence[Hashable], solution: Sequence[Hashable]) -> float:
    """LCS / the longer length: 1.0 only when ``answer == solution``, 0.0 with nothing shared."""
    longest = max(len(answer), len(solution))
    return lcs_length(answer, solution) / longest if longest else 1.0
