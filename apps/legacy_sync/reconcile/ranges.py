"""Bisection over key ranges (data-diff's method): compare a range's row count and hash sum
on both sides; split a range that differs into ``parts`` sub-ranges and compare those, until a
differing range holds few rows; then fetch and compare those rows one by one.

Keys are placed on an integer line (v1's integer ids as they are; text keys by a hash of the
key). Ranges are half-open ``(lo, hi]``. The first comparison covers v1's key range split into
``parts``, plus two buckets that v1 never fills: v2 rows outside v1's range, and v2 rows whose
legacy key is no v1 id at all.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import NamedTuple

from .differences import Difference, SideRow, rows_compare

OUTSIDE, UNPLACED = -1, -2


class Tally(NamedTuple):
    count: int
    total: int  # sum of the rows' 60-bit hashes


EMPTY = Tally(0, 0)


@dataclass(frozen=True)
class Span:
    lo: int  # exclusive
    hi: int  # inclusive

    @property
    def width(self) -> int:
        return self.hi - self.lo

    def step(self, parts: int) -> int:
        return max(1, -(-self.width // parts))

    def split(self, parts: int) -> list["Span"]:
        """Sub-range b holds positions p with (p - lo - 1) // step == b: the SQL's bucket."""
        step = self.step(parts)
        return [
            Span(self.lo + b * step, min(self.lo + (b + 1) * step, self.hi))
            for b in range(-(-self.width // step))
        ]


def bucket_of(position: int | None, domain: Span, parts: int) -> int:
    if position is None:
        return UNPLACED
    if position <= domain.lo or position > domain.hi:
        return OUTSIDE
    return (position - domain.lo - 1) // domain.step(parts)


class Side(ABC):
    """One database's rows of a mapping, summarised per range or fetched row by row."""

    queries: int = 0

    @abstractmethod
    def summarize_domain(self, domain: Span, parts: int) -> dict[int, Tally]:
        """Tallies of the domain's ``parts`` buckets, and of OUTSIDE and UNPLACED rows."""

    @abstractmethod
    def summarize(self, spans: list[Span], parts: int) -> dict[tuple[int, int], Tally]:
        """Tallies keyed (index of the span, bucket within it)."""

    @abstractmethod
    def rows(self, spans: list[Span], *, strays: Span | None = None) -> list[SideRow]:
        """Rows in ``spans``, and with ``strays`` the rows outside it or with no position."""


@dataclass
class Bisection:
    """What one entity's comparison looked at, for the run's summary."""

    v1_rows: int = 0
    v2_rows: int = 0
    ranges_compared: int = 0
    levels: int = 0
    row_ranges: int = 0
    rows_fetched: int = 0
    unreported_ranges: int = 0  # differing ranges left unfetched: over the row limit


def differences_bisect(
    v1: Side, v2: Side, *, domain: Span, parts: int, row_threshold: int, row_limit: int
) -> tuple[list[Difference], Bisection]:
    """The rows that differ between the sides, found by bisecting ``domain``.

    A range is fetched row by row once either side holds at most ``row_threshold`` rows in
    it (or it is too narrow to split); at most about ``row_limit`` rows are fetched in all.
    """
    if parts < 2:
        raise ValueError("bisection needs at least 2 parts per range")
    stats = Bisection(levels=1)
    top1, top2 = v1.summarize_domain(domain, parts), v2.summarize_domain(domain, parts)
    stats.v1_rows = sum(t.count for t in top1.values())
    stats.v2_rows = sum(t.count for t in top2.values())
    children = domain.split(parts)
    stats.ranges_compared = len(children)
    pending = _differing(children, top1, top2, lambda b: b)
    strays = any(tally.count for tallies in (top1, top2) for b, tally in tallies.items() if b < 0)
    fetch: list[tuple[Span, int]] = []
    while pending:
        fetch += [(span, n) for span, n in pending if n <= row_threshold or span.width <= parts]
        big = [span for span, n in pending if n > row_threshold and span.width > parts]
        if not big:
            break
        stats.levels += 1
        sub1, sub2 = v1.summarize(big, parts), v2.summarize(big, parts)
        pending = []
        for index, span in enumerate(big):
            parts_of = span.split(parts)
            stats.ranges_compared += len(parts_of)
            pending += _differing(parts_of, sub1, sub2, lambda b, i=index: (i, b))
    spans, budget = [], row_limit
    for span, n in fetch:
        if n > budget and spans:
            stats.unreported_ranges += 1
            continue
        spans.append(span)
        budget -= n
    rows1 = v1.rows(spans, strays=domain if strays else None)
    rows2 = v2.rows(spans, strays=domain if strays else None)
    stats.row_ranges = len(spans) + (1 if strays else 0)
    stats.rows_fetched = len(rows1) + len(rows2)
    return rows_compare(rows1, rows2), stats


def _differing(spans: list[Span], v1: dict, v2: dict, tally_key) -> list[tuple[Span, int]]:
    """(span, the larger side's row count) of the spans whose tallies differ; span b's
    tallies are under ``tally_key(b)``."""
    found = []
    for bucket, span in enumerate(spans):
        one, two = v1.get(tally_key(bucket), EMPTY), v2.get(tally_key(bucket), EMPTY)
        if one != two:
            found.append((span, max(one.count, two.count)))
    return found
