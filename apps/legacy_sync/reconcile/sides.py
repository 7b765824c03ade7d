"""The two ways to read one side of a mapping.

SqlSide (both databases on PostgreSQL): every tally is one aggregate query that hashes the
rows where they are, and only rows of small differing ranges leave the database. v2 ranges of
entities whose migrated ids are ``legacy_uuid(entity, key)`` are narrowed on the primary key
(plus the few v2-origin rows, through the legacy-key index), so the bisection's deeper levels
read index ranges instead of the table; that is checked first (a migrated row with another id
turns the shortcut off for the entity).

MemorySide (SQLite, the embedded default): one query reads the side's rows and Python hashes
and tallies them. Slower, and fine at the sizes SQLite holds.

Either way v1's *held* rows (quarantined or merged, so expected to be absent from v2) are
set aside by key, one array parameter, and read on their own with ``held_rows``: scattered
over the key range, they would otherwise make most ranges differ.
"""

import bisect
import uuid

from django.db import models

from ..backfill.keys import KEY_BITS, _entity_prefix, legacy_uuid
from ..v1.gateway import v1_fetch_named
from .dialects import Dialect, dialect_for
from .differences import SideRow, plain
from .entities import TRUE, Mapping
from .ranges import EMPTY, OUTSIDE, UNPLACED, Side, Span, Tally, bucket_of
from .rowhash import (
    int_key_position,
    row_hash,
    row_text,
    sql_int_key_position,
    sql_is_int_key,
    sql_row_hash,
    sql_text_key_position,
    text_key_position,
)

RANGES_PER_QUERY = 100
LARGEST_KEY = (1 << KEY_BITS) - 1


class _MappedSide(Side):
    def __init__(self, mapping: Mapping, side: str, alias: str, *, held: list[str]):
        self.mapping, self.side, self.alias = mapping, side, alias
        self.queries = 0
        self.dialect: Dialect = dialect_for(alias)
        model = mapping.model if side == "v2" else None
        self._uuid_ids = model is not None and isinstance(model._meta.pk, models.UUIDField)
        # Held keys as v1 stores them (v1's rows only): text task ids, else integers.
        self._held_text = mapping.key_is_text and mapping.held_entity == mapping.name
        self._held = [] if side == "v2" else sorted(
            k if self._held_text else int(k) for k in held if self._held_text or k.isdigit()
        )  # fmt: skip

    def _held_condition(self, *, scan: bool) -> tuple[str, list]:
        column = self.mapping.held_key_column
        return self.dialect.among(column, self._held, text=self._held_text, scan=scan)

    def _condition(self, narrow: str, params: list) -> tuple[str, list]:
        """``narrow`` without the held rows."""
        if not self._held:
            return narrow, params
        held, extra = self._held_condition(scan=True)
        return f"({narrow}) AND NOT ({held})", [*params, *extra]

    def _execute(self, sql: str, params: list) -> tuple[list[str], list[tuple]]:
        self.queries += 1
        return v1_fetch_named(sql, params, alias=self.alias)

    def _side_row(self, position, key: str, fingerprint: int, record: dict) -> SideRow:
        values = {}
        for column in self.mapping.columns:
            value = plain(record[f"c_{column.name}"])
            if column.kind == "text" and value is not None:
                value = str(value)  # v1's ids and v2's legacy keys shown alike, as compared
            values[column.name] = value
        v2_id = record.get("m_id")
        if v2_id is not None and self._uuid_ids and not isinstance(v2_id, uuid.UUID):
            v2_id = uuid.UUID(str(v2_id))  # SQLite keeps UUIDs as 32 hex digits
        return SideRow(position, key, fingerprint, values, record.get("m_origin") or "", v2_id)

    def _memory_rows(self, narrow: str, params: list) -> list[SideRow]:
        """Rows read and hashed here."""
        sql = self.mapping.row_sql(self.side, self.dialect, narrow)
        names, records = self._execute(sql, params)
        kinds, rows = self.mapping.kinds, []
        for values in records:
            record = dict(zip(names, values, strict=True))
            key = str(record["key"])
            text = row_text(key, kinds, [record[f"c_{c.name}"] for c in self.mapping.columns])
            position = text_key_position(key) if self.mapping.key_is_text else int_key_position(key)
            rows.append(self._side_row(position, key, row_hash(text), record))
        return rows

    def held_rows(self) -> list[SideRow]:
        """v1's held rows that are still there (grouped figures have none of their own)."""
        if self.mapping.held_entity != self.mapping.name or not self._held:
            return []
        return self._memory_rows(*self._held_condition(scan=False))


class MemorySide(_MappedSide):
    def __init__(self, mapping: Mapping, side: str, alias: str, *, held: list[str]):
        super().__init__(mapping, side, alias, held=held)
        rows = self._memory_rows(*self._condition(TRUE, []))
        self._placed = sorted((r for r in rows if r.position is not None), key=_position)
        self._positions = [r.position for r in self._placed]
        self._unplaced = [r for r in rows if r.position is None]

    def _in(self, span: Span) -> list[SideRow]:
        start = bisect.bisect_right(self._positions, span.lo)
        return self._placed[start : bisect.bisect_right(self._positions, span.hi)]

    def summarize_domain(self, domain: Span, parts: int) -> dict[int, Tally]:
        tallies: dict[int, Tally] = {}
        for row in [*self._placed, *self._unplaced]:
            bucket = bucket_of(row.position, domain, parts)
            count, total = tallies.get(bucket, EMPTY)
            tallies[bucket] = Tally(count + 1, total + row.fingerprint)
        return tallies

    def summarize(self, spans: list[Span], parts: int) -> dict[tuple[int, int], Tally]:
        tallies: dict[tuple[int, int], Tally] = {}
        for index, span in enumerate(spans):
            for row in self._in(span):
                bucket = (index, bucket_of(row.position, span, parts))
                count, total = tallies.get(bucket, EMPTY)
                tallies[bucket] = Tally(count + 1, total + row.fingerprint)
        return tallies

    def rows(self, spans: list[Span], *, strays: Span | None = None) -> list[SideRow]:
        found = [row for span in spans for row in self._in(span)]
        if strays is not None:
            found += self._unplaced
            found += [r for r in self._placed if r.position <= strays.lo or r.position > strays.hi]
        return found


def _position(row: SideRow) -> int:
    return row.position


class SqlSide(_MappedSide):
    def __init__(self, mapping: Mapping, side: str, alias: str, *, held: list[str]):
        super().__init__(mapping, side, alias, held=held)
        self._by_primary_key: bool | None = None  # decided before the first narrowed query
        self.misplaced_ids = 0

    # --- the queries (only fixed names and expressions go into the text; values are
    # parameters, listed in the order their placeholders appear) ---

    def summarize_domain(self, domain: Span, parts: int) -> dict[int, Tally]:
        bounds, labels = _thresholds([domain], parts)
        tallies = {}
        for bucket, tally in self._tallies(TRUE, [], bounds).items():
            label = _label(bucket, labels)
            tallies[UNPLACED if bucket is None else OUTSIDE if label is None else label[1]] = tally
        return tallies

    def summarize(self, spans: list[Span], parts: int) -> dict[tuple[int, int], Tally]:
        tallies = {}
        for first in range(0, len(spans), RANGES_PER_QUERY):
            chunk = dict(enumerate(spans[first : first + RANGES_PER_QUERY], start=first))
            bounds, labels = _thresholds(list(chunk.values()), parts, indices=list(chunk))
            for bucket, tally in self._tallies(
                *self._narrowing(list(chunk.values())), bounds
            ).items():
                label = _label(bucket, labels)
                if label is not None:  # rows the narrowing let through between the spans
                    tallies[label] = tally
        return tallies

    def _tallies(self, narrow: str, params: list, bounds: list[int]) -> dict:
        """(count, hash sum) per ``width_bucket(pos, bounds)``: one evaluation of ``pos`` per
        row, whatever the number of ranges (a bucket expression that named ``pos`` several
        times would compute it, a text cast on v2, each time)."""
        rows, params = self._positioned(narrow, params)
        sql = (
            "SELECT width_bucket(p.pos, %s::bigint[]), COUNT(*), SUM(p.h) "  # noqa: S608
            f"FROM ({rows}) p GROUP BY 1"
        )
        _, found = self._execute(sql, [bounds, *params])
        return {bucket: Tally(count, int(total)) for bucket, count, total in found}

    def rows(self, spans: list[Span], *, strays: Span | None = None) -> list[SideRow]:
        found = []
        for first in range(0, len(spans), RANGES_PER_QUERY):
            chunk = spans[first : first + RANGES_PER_QUERY]
            rows, params = self._positioned(*self._narrowing(chunk))
            within = " OR ".join(["(p.pos > %s::bigint AND p.pos <= %s::bigint)"] * len(chunk))
            params += [bound for span in chunk for bound in (span.lo, span.hi)]
            found += self._fetch(rows, within, params)
        if strays is not None:
            rows, params = self._positioned(TRUE, [])
            condition = "p.pos IS NULL OR p.pos <= %s::bigint OR p.pos > %s::bigint"
            found += self._fetch(rows, condition, [*params, strays.lo, strays.hi])
        return found

    def _fetch(self, rows: str, condition: str, params: list) -> list[SideRow]:
        names, records = self._execute(f"SELECT p.* FROM ({rows}) p WHERE {condition}", params)  # noqa: S608
        found = []
        for values in records:
            record = dict(zip(names, values, strict=True))
            found.append(self._side_row(record["pos"], record["key_text"], record["h"], record))
        return found

    # --- SQL building ---

    def _position_sql(self, key_expr: str) -> str:
        if self.mapping.key_is_text:
            return sql_text_key_position(key_expr)
        return sql_int_key_position(key_expr, trusted=self.side == "v1")

    def _positioned(self, narrow: str, params: list) -> tuple[str, list]:
        """The side's rows (held ones set aside) with ``pos``, ``key_text`` and ``h``."""
        narrow, params = self._condition(narrow, params)
        row_sql = self.mapping.row_sql(self.side, self.dialect, narrow)
        columns = [(c.kind, f"r.c_{c.name}") for c in self.mapping.columns]
        sql = (
            f"SELECT {self._position_sql('r.key')} AS pos, (r.key)::text AS key_text, "  # noqa: S608
            f"{sql_row_hash('r.key', columns)} AS h, r.* FROM ({row_sql}) r"
        )
        return sql, params

    def _narrowing(self, spans: list[Span]) -> tuple[str, list]:
        """A condition on the side's own rows that keeps (at least) those in ``spans``,
        written so that an index can serve it."""
        key = self.mapping.source(self.side).key
        if self.side == "v2" and self._primary_key_narrows():
            conditions, params = [], []
            for span in spans:
                low, high = max(span.lo + 1, 0), min(span.hi, LARGEST_KEY)
                if low <= high:
                    conditions.append("(t.id >= %s::uuid AND t.id <= %s::uuid)")
                    entity = self.mapping.id_entity
                    params += [legacy_uuid(entity, low), legacy_uuid(entity, high)]
            # v2-origin rows pushed to v1 keep their own ids: the (origin, legacy_key) index
            conditions.append("(t.origin = 'v2' AND t.legacy_key IS NOT NULL)")
            return " OR ".join(conditions), params
        # v1's integer key is its indexed column: compare it as it is, not cast
        place = key if self.side == "v1" and not self.mapping.key_is_text else None
        place = place or self._position_sql(key)
        conditions = [f"({place} > %s::bigint AND {place} <= %s::bigint)"] * len(spans)
        return " OR ".join(conditions), [bound for span in spans for bound in (span.lo, span.hi)]

    def _primary_key_narrows(self) -> bool:
        if self._by_primary_key is None:
            self._by_primary_key = False
            if self.mapping.id_entity and self.mapping.model is not None:
                self.misplaced_ids = self._misplaced_ids()
                self._by_primary_key = self.misplaced_ids == 0
        return self._by_primary_key

    def _misplaced_ids(self) -> int:
        """Migrated rows whose id is not ``legacy_uuid(entity, legacy_key)``: ranges of ids
        would miss them."""
        prefix = f"{_entity_prefix(self.mapping.id_entity) >> KEY_BITS:020x}"
        source = self.mapping.v2
        sql = (
            f"SELECT COUNT(*) FROM {self.mapping.model._meta.db_table} t WHERE {source.where} "  # noqa: S608
            # CASE, not AND: PostgreSQL may evaluate AND's operands in any order
            f"AND t.origin = 'legacy' AND t.id <> CASE WHEN {sql_is_int_key('t.legacy_key')} "
            "THEN (%s || lpad(to_hex(t.legacy_key::bigint), 12, '0'))::uuid END"
        )
        _, found = self._execute(sql, [prefix])
        return found[0][0]


def _thresholds(spans: list[Span], parts: int, indices: list[int] | None = None):
    """``width_bucket`` thresholds for the sub-ranges of ``spans`` (sorted, disjoint), and
    the label of each bucket number: (span index, sub-range) or None between spans."""
    bounds: list[int] = []
    labels: list[tuple[int, int] | None] = []

    def start(value: int, label) -> None:
        if bounds and bounds[-1] == value:  # an empty gap: the next range starts there
            labels[-1] = label
        else:
            bounds.append(value)
            labels.append(label)

    ordered = sorted(zip(indices or range(len(spans)), spans, strict=True), key=lambda x: x[1].lo)
    for index, span in ordered:
        for bucket, part in enumerate(span.split(parts)):
            start(part.lo + 1, (index, bucket))
        start(span.hi + 1, None)
    return bounds, labels


def _label(bucket: int | None, labels: list):
    """What ``width_bucket``'s result means: 0 is below the first threshold."""
    if bucket is None or bucket == 0:
        return None
    return labels[bucket - 1]


def sides_build(mapping: Mapping, *, method: str, held: list[str]) -> tuple[Side, Side]:
    """v1's and v2's sides; ``held``: v1 keys set aside (quarantined or merged)."""
    kind = SqlSide if method == "sql" else MemorySide
    return kind(mapping, "v1", "legacy", held=held), kind(mapping, "v2", "default", held=held)
