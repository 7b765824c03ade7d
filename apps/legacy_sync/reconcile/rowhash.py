"""A row's canonical text and hash, and where its key sits in the compared key space.

A compared row is its key and its columns, each written as text by kind (timestamps as UTC
epoch microseconds, booleans as 0/1...), joined with a unit separator; a NULL is ``n`` and a
value ``v<text>``, so NULL and "" differ. A range's hash is the plain integer sum of its rows'
hashes, which PostgreSQL adds up in ``numeric`` without overflow, so an equal range costs one
aggregate query per side.

In PostgreSQL a row's hash is ``hashtextextended`` of its text (the 64-bit hash behind hash
partitioning, stable across versions): on 320k attempts it hashed in a third of the time of a
60-bit md5 prefix. In Python it is the md5 prefix. Each comparison uses one of them for both
sides (both databases on PostgreSQL: SQL; otherwise Python), so they never need to agree.
"""

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ..backfill.keys import as_utc

SEPARATOR = "\x1f"
HASH_HEX_DIGITS = 15  # Python: 60 bits of md5
TEXT_KEY_BITS = 32  # text keys (task ids) are placed by a 32-bit hash of the key
MAX_INT_KEY_DIGITS = 15  # longer "integer" keys cannot be v1 ids; they are not placed
UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
KINDS = ("text", "int", "bool", "ts", "float")


# --- Python ---------------------------------------------------------------------------------


def canonical_value(kind: str, value) -> str | None:
    if value is None:
        return None
    if kind == "text":
        return str(value)
    if kind == "int":
        return str(int(Decimal(str(value))))
    if kind == "bool":
        return "1" if value in (True, 1, "1", "t", "true") else "0"
    if kind == "ts":
        try:
            moment = as_utc(value)
        except ValueError:  # v1 on SQLite may hold any text: never equal to a timestamp
            return f"!{value}"
        return str((moment - UNIX_EPOCH) // timedelta(microseconds=1))
    if kind == "float":
        return repr(float(value))
    raise ValueError(f"unknown kind {kind!r}")


def row_text(key: str, kinds: tuple[str, ...], values) -> str:
    parts = [key]
    for kind, value in zip(kinds, values, strict=True):
        text = canonical_value(kind, value)
        parts.append("n" if text is None else "v" + text)
    return SEPARATOR.join(parts)


def row_hash(text: str) -> int:
    return int(hashlib.md5(text.encode()).hexdigest()[:HASH_HEX_DIGITS], 16)  # noqa: S324 - a checksum


def int_key_position(key: str) -> int | None:
    """A v1 integer key's place; None for a key that is no v1 id (a junk legacy key)."""
    return int(key) if key.isdigit() and len(key) <= MAX_INT_KEY_DIGITS else None


def text_key_position(key: str) -> int:
    return int(hashlib.md5(key.encode()).hexdigest()[: TEXT_KEY_BITS // 4], 16)  # noqa: S324


# --- PostgreSQL -----------------------------------------------------------------------------

_SQL_CANONICAL = {
    "text": "({})::text",
    "int": "({})::bigint::text",
    "bool": "({})::int::text",
    # date_part is float8 (EXTRACT numeric, slower); at 1e-7 s resolution, microseconds
    # round back exactly, and the same instant gives the same float on both types.
    "ts": "(date_part('epoch', {}) * 1000000)::bigint::text",
    "float": "({})::float8::text",
}


def sql_row_hash(key_expr: str, columns: list[tuple[str, str]]) -> str:
    """The hash of a row whose key is ``key_expr`` and columns are (kind, expression)."""
    parts = [f"({key_expr})::text"] + [
        f"COALESCE('v' || {_SQL_CANONICAL[kind].format(expr)}, 'n')" for kind, expr in columns
    ]
    return f"hashtextextended(concat_ws(chr(31), {', '.join(parts)}), 0)"


def sql_is_int_key(key_expr: str) -> str:
    """Whether a legacy key's text is a v1 integer id. Not a regex: on 320k attempts the
    regex cost 1.3 µs a row, translate a third of it."""
    return (
        f"(length({key_expr}) BETWEEN 1 AND {MAX_INT_KEY_DIGITS} "
        f"AND translate({key_expr}, '0123456789', '') = '')"
    )


def sql_int_key_position(key_expr: str, *, trusted: bool) -> str:
    """``trusted``: the key is an integer column (v1's ids), not a v2 legacy key's text."""
    if trusted:
        return f"({key_expr})::bigint"
    # CASE, not AND: PostgreSQL may evaluate AND's operands in any order
    return f"CASE WHEN {sql_is_int_key(key_expr)} THEN ({key_expr})::bigint END"


def sql_text_key_position(key_expr: str) -> str:
    digits = TEXT_KEY_BITS // 4
    return f"('x' || substr(md5(({key_expr})::text), 1, {digits}))::bit({TEXT_KEY_BITS})::bigint"
