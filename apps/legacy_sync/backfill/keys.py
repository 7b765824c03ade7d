"""How legacy keys become v2 ids, and how v1's loosely typed values are read.

A migrated row's v2 id is derived from ``entity:legacy_key``: the same legacy row always gets
the same id, so re-runs, resumes and parallel workers agree without looking anything up. The
mapping is still explicit: every migrated row stores its ``legacy_key``
(apps.core.models.OriginTracked).

Integer keys (most of v1) give a version-8 UUID: 10 bytes fixed per entity, then the key in
the last 6, so ids follow v1's key order and bulk inserts append to the primary-key index
instead of scattering over it. Other keys (task ids, ``123@7``) get a UUIDv5.
"""

import hashlib
import json
import uuid
from datetime import UTC, date, datetime
from functools import cache

from django.utils.dateparse import parse_date, parse_datetime

LEGACY_NAMESPACE = uuid.UUID("6f1c3a52-9d0e-4b7a-8c1e-2a5d7e9b0c41")
KEY_BITS = 48


@cache
def _entity_prefix(entity: str) -> int:
    """The fixed high 80 bits for ``entity``, with the version (8) and variant bits set."""
    high = int.from_bytes(hashlib.sha256(f"{LEGACY_NAMESPACE}:{entity}".encode()).digest()[:16])
    high &= ~((1 << KEY_BITS) - 1)
    high &= ~(0xF << 76)
    high |= 0x8 << 76  # version 8: vendor-specific layout
    high &= ~(0x3 << 62)
    high |= 0x2 << 62  # RFC 9562 variant
    return high


def legacy_uuid(entity: str, key) -> uuid.UUID:
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        number = int(key)
        if 0 <= number < 1 << KEY_BITS:
            return uuid.UUID(int=_entity_prefix(entity) | number)
    return uuid.uuid5(LEGACY_NAMESPACE, f"{entity}:{key}")


def as_utc(value) -> datetime | None:
    """v1 stores naive UTC timestamps (ISO text once they sit in a quarantined row's JSON)."""
    if type(value) is datetime:  # the common case first: millions of calls per backfill
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(f"{value!r} is not a timestamp")
        value = parsed
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_date(value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    parsed = parse_date(str(value))
    if parsed is None:
        raise ValueError(f"{value!r} is not a date")
    return parsed


def parse_user_key(key) -> int | None:
    """v1's JSON files key users as ``user_7`` or ``7``; anything else is not a user."""
    text = str(key).strip()
    if text.startswith("user_"):
        text = text[len("user_") :]
    return int(text) if text.isdigit() else None


def jsonable(row: dict) -> dict:
    """A legacy row as JSON-safe values, for a quarantined row's ``raw``."""
    return json.loads(json.dumps(row, default=_encode))


def _encode(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
