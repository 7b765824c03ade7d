"""The one door to v1's database: every raw cursor on the ``legacy`` alias is opened here.

Each call opens and closes its own cursor. Parameters use Django's ``%s`` placeholders; a
literal ``%`` in SQL is written ``%%``.
"""

from collections.abc import Sequence

from django.db import connections, transaction

V1 = "legacy"  # the v1 database's alias (config/db_routers.py)


def v1_connection(alias: str = V1):
    return connections[alias]


def v1_is_postgres(alias: str = V1) -> bool:
    return connections[alias].vendor == "postgresql"


def v1_cursor(alias: str = V1):
    """A raw cursor, for a caller that runs several statements on one cursor."""
    return connections[alias].cursor()


def v1_atomic(alias: str = V1):
    return transaction.atomic(using=alias)


def v1_execute(sql: str, params: Sequence = (), *, alias: str = V1) -> None:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)


def v1_fetch(sql: str, params: Sequence = (), *, alias: str = V1) -> list[tuple]:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def v1_fetch_one(sql: str, params: Sequence = (), *, alias: str = V1) -> tuple | None:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def v1_fetch_named(sql: str, params: Sequence = (), *, alias: str = V1):
    """(column names, rows as tuples)."""
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return [c[0] for c in cursor.description], cursor.fetchall()


def v1_fetch_dicts(sql: str, params: Sequence = (), *, alias: str = V1) -> list[dict]:
    names, rows = v1_fetch_named(sql, params, alias=alias)
    return [dict(zip(names, values, strict=True)) for values in rows]


def marks(count: int) -> str:
    """``%s, %s, ...``: ``count`` placeholders for an IN list or VALUES."""
    return ", ".join(["%s"] * count)
