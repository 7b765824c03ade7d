"""Prerequisite-graph algorithms on plain ids (no Django), so they are easy to test."""

from collections import defaultdict, deque
from collections.abc import Hashable, Iterable

Edge = tuple[Hashable, Hashable]  # (prerequisite, concept): learn the first before the second


def find_cycle(edges: Iterable[Edge]) -> list | None:
    """Return one cycle as ``[a, b, ..., a]`` (each learned before the next), or None."""
    graph: dict = defaultdict(list)
    for before, after in edges:
        graph[before].append(after)
    state: dict = {}  # absent = unvisited, 1 = on the current path, 2 = done
    for start in list(graph):
        if start in state:
            continue
        path, stack = [start], [iter(graph[start])]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph.get(nxt, ())))
    return None


def reachable_from(roots: Iterable, edges: Iterable[Edge]) -> set:
    """Everything reachable from ``roots`` along before→after edges (roots included)."""
    graph: dict = defaultdict(list)
    for before, after in edges:
        graph[before].append(after)
    seen = set(roots)
    queue = deque(seen)
    while queue:
        for nxt in graph.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen
