"""Database routing: the external legacy v1 database, and the optional read replica of default.

``DATABASE_ROUTERS`` lists ``LegacyRouter`` first (legacy models go to ``legacy`` wherever they
are read), then ``ReplicaRouter``.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS

LEGACY_ALIAS = "legacy"
REPLICA_ALIAS = "replica"

# True inside ``replica_reads_scope``. A context variable, so each request (thread or task)
# has its own.
_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


class LegacyRouter:
    """The ``legacy`` alias is never migrated; models that want it say so explicitly.

    Unmanaged legacy models set ``legacy_database = True`` on the model class; everything
    else lives on ``default``.
    """

    def _is_legacy(self, model) -> bool:
        return getattr(model, "legacy_database", False)

    def db_for_read(self, model, **hints):
        return LEGACY_ALIAS if self._is_legacy(model) else None

    def db_for_write(self, model, **hints):
        return LEGACY_ALIAS if self._is_legacy(model) else None

    def allow_relation(self, obj1, obj2, **hints):
        # No foreign keys across the two databases.
        if self._is_legacy(type(obj1)) != self._is_legacy(type(obj2)):
            return False
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # None rather than True elsewhere, so the routers after this one have their say.
        return False if db == LEGACY_ALIAS else None


@contextmanager
def replica_reads_scope() -> Iterator[None]:
    """Send the reads of this block to the ``replica`` alias (writes stay on default).

    Precondition: the alias exists. Callers decide whether to enter (apps/core/replica.py:
    replica reads switched on, the learner not pinned to the primary)."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


class ReplicaRouter:
    """Reads inside ``replica_reads_scope`` go to the replica; every write and every other read
    go to default. The replica is a streaming copy of default: never migrated, never written."""

    def db_for_read(self, model, **hints):
        if _replica_reads.get():
            return REPLICA_ALIAS
        if _from_replica(hints.get("instance")):
            # Outside the scope, a replica row's relations are read from the primary.
            return DEFAULT_DB_ALIAS
        return None

    def db_for_write(self, model, **hints):
        # Django would save a row back to the database it was read from: never to the replica.
        if _from_replica(hints.get("instance")):
            return DEFAULT_DB_ALIAS
        return None

    def allow_relation(self, obj1, obj2, **hints):
        # A replica row is a primary row: they may relate.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA_ALIAS}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db == REPLICA_ALIAS else None


def _from_replica(instance) -> bool:
    return instance is not None and instance._state.db == REPLICA_ALIAS
