"""A difference between v1 and v2, as found row by row, before it is explained and stored."""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from ..models import DifferenceKind


@dataclass(frozen=True)
class SideRow:
    """One side's row in v1 terms: its key, its place on the key line, the hash of its
    canonical text, its compared values (for people), and on v2 which row it is."""

    position: int | None
    key: str
    fingerprint: int
    values: dict
    origin: str = ""
    v2_id: object = None


@dataclass
class Difference:
    entity: str
    legacy_key: str
    kind: str
    v1_values: dict | None = None
    v2_values: dict | None = None
    v2_origin: str = ""
    v2_id: object = None
    explained: bool = False
    explanation: str = ""
    repaired: bool = False
    extra: dict = field(default_factory=dict)  # what the explanation or repair looked at

    def explain(self, why: str) -> None:
        self.explained, self.explanation = True, why[:200]


def plain(value):
    """A compared value as JSON: timestamps as ISO text, numerics as numbers."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def rows_compare(v1_rows: list[SideRow], v2_rows: list[SideRow]) -> list[Difference]:
    """Differences between two sides' rows of the same key ranges, in key order. Two v2 rows
    with one legacy key (one migrated, one pushed) are a mismatch that names both."""
    v1_by_key = {row.key: row for row in v1_rows}
    v2_by_key: dict[str, list[SideRow]] = {}
    for row in v2_rows:
        v2_by_key.setdefault(row.key, []).append(row)
    found = []
    for key in sorted(v1_by_key.keys() | v2_by_key.keys(), key=key_order):
        one, twos = v1_by_key.get(key), v2_by_key.get(key, [])
        if one is not None and len(twos) == 1 and twos[0].fingerprint == one.fingerprint:
            continue
        difference = Difference(entity="", legacy_key=key, kind=DifferenceKind.MISMATCH)
        if one is not None:
            difference.v1_values = one.values
        if not twos:
            difference.kind = DifferenceKind.MISSING_IN_V2
        else:
            if one is None:
                difference.kind = DifferenceKind.MISSING_IN_V1
            difference.v2_values = _v2_values(twos[0])
            difference.v2_origin, difference.v2_id = twos[0].origin, twos[0].v2_id
            if len(twos) > 1:
                difference.v2_values = {"duplicates": [_v2_values(row) for row in twos]}
                difference.extra["duplicates"] = len(twos)
        found.append(difference)
    return found


def _v2_values(row: SideRow) -> dict:
    values = dict(row.values)
    if row.origin:
        values["origin"], values["v2_id"] = row.origin, plain(row.v2_id)
    return values


def key_order(key: str) -> tuple:
    """Integer keys in number order, then text keys."""
    return (0, int(key), key) if key.isdigit() else (1, 0, key)
