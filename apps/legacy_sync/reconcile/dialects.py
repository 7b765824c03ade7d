"""The SQL fragments of the mapping queries that PostgreSQL and SQLite spell differently.

Every query here is run with a parameter list, so a literal ``%`` is written ``%%`` (both
Django backends then pass it on as ``%``).
"""

import json

from ..backfill.records import MistakeLogs
from ..v1.gateway import v1_connection

SUBTYPE_FUNCTION = "reconcile_mistake_subtype"
# What Python's str.strip() removes from ASCII text: what the backfill strips.
WHITESPACE_PG = r"E' \t\n\r\f\v'"
WHITESPACE_SQLITE = "' ' || char(9, 10, 11, 12, 13)"


class Dialect:
    def __init__(self, vendor: str):
        self.vendor = vendor

    @property
    def postgres(self) -> bool:
        return self.vendor == "postgresql"

    def trimmed(self, expr: str) -> str:
        if self.postgres:
            return f"btrim({expr}, {WHITESPACE_PG})"
        return f"trim({expr}, {WHITESPACE_SQLITE})"

    @staticmethod
    def after_prefix(expr: str, prefix: str) -> str:
        """``expr`` without ``prefix``, or NULL when it does not start with it
        (``bit:12`` → ``12``). ``prefix`` is a constant of the code, never input."""
        return f"CASE WHEN {expr} LIKE '{prefix}%%' THEN substr({expr}, {len(prefix) + 1}) END"

    def before_at(self, expr: str) -> str:
        """A split session's key ``123@7`` is v1 session ``123``."""
        if self.postgres:
            return f"split_part({expr}, '@', 1)"
        return f"CASE WHEN instr({expr}, '@') > 0 THEN substr({expr}, 1, instr({expr}, '@') - 1) ELSE {expr} END"  # noqa: E501

    def json_text(self, column: str, key: str) -> str:
        if self.postgres:
            return f"({column} ->> '{key}')"
        return f"json_extract({column}, '$.{key}')"

    def json_path_text(self, column: str, *path: str) -> str:
        if self.postgres:
            return f"({column} #>> '{{{','.join(path)}}}')"
        return f"json_extract({column}, '$.{'.'.join(path)}')"

    def json_number(self, column: str, key: str) -> str:
        if self.postgres:
            return f"({column} ->> '{key}')::numeric"
        return f"json_extract({column}, '$.{key}')"

    def among(self, column: str, keys: list, *, text: bool, scan: bool) -> tuple[str, list]:
        """``column`` is one of ``keys``: one parameter however many keys (an array on
        PostgreSQL, a JSON list on SQLite). ``scan``: tested on every row of a scan, so on
        PostgreSQL the column is cast to the array's type and the test is a hash lookup
        (not a walk through the array); otherwise the column is left as it is, for its index."""
        if self.postgres:
            kind = "text" if text else "bigint"
            tested = f"({column})::{kind}" if scan else column
            return f"{tested} = ANY(%s::{kind}[])", [keys]
        return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(keys)]  # noqa: S608

    def subtype(self, expr: str) -> str:
        """The backfill's mistake subtype of a template code: Django's slugify, with
        underscores for hyphens, cut to 64. In PostgreSQL for ASCII codes (v1's are
        identifiers); SQLite calls the backfill's own function."""
        if not self.postgres:
            return f"{SUBTYPE_FUNCTION}({expr})"
        cleaned = f"regexp_replace(lower({expr}), '[^a-z0-9_\\s-]', '', 'g')"
        dashed = f"regexp_replace({cleaned}, '[-\\s]+', '-', 'g')"
        return f"substr(replace(btrim({dashed}, '-_'), '-', '_'), 1, 64)"


def dialect_for(alias: str) -> Dialect:
    """The dialect of ``alias``'s connection; on SQLite the functions the queries call are
    registered on it first."""
    connection = v1_connection(alias)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_function(
            SUBTYPE_FUNCTION,
            1,
            lambda code: None if code is None else MistakeLogs.subtype({"template_code": code}),
            deterministic=True,
        )
    return Dialect(connection.vendor)
