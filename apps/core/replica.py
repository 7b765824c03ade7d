"""Reads from the read replica (``REPLICA_DATABASE_URL``), with read-your-writes for learners.

Only views marked ``@replica_reads`` read from the replica (the progress and statistics
endpoints, the migration status pages); every write and every other read stays on the primary
(config/db_routers.py: ``ReplicaRouter``). The replica lags the primary a little, so a learner's
own write (any unsafe request, ``ReplicaPinMiddleware``) pins them to the primary for
``REPLICA_PIN_SECONDS``: they never read a progress that misses the attempt they just sent. The
pin lives in the default cache, which every web worker shares (Redis in production).

With no replica configured (``REPLICA_READS_ENABLED`` false) nothing here touches the cache.
"""

from collections.abc import Callable
from contextlib import nullcontext
from functools import wraps

from django.conf import settings
from django.core.cache import cache

from config.db_routers import replica_reads_scope

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def _pin_key(user_pk) -> str:
    return f"replica-pin:{user_pk}"


def learner_pin(learner) -> None:
    """Read ``learner``'s replica-eligible views from the primary for REPLICA_PIN_SECONDS."""
    cache.set(_pin_key(learner.pk), 1, timeout=settings.REPLICA_PIN_SECONDS)


def learner_pinned(learner) -> bool:
    return cache.get(_pin_key(learner.pk)) is not None


def replica_scope(*, learner=None):
    """A context in which reads go to the replica; the primary when replica reads are off or
    ``learner`` (when given) wrote a moment ago."""
    if not settings.REPLICA_READS_ENABLED:
        return nullcontext()
    if learner is not None and learner.is_authenticated and learner_pinned(learner):
        return nullcontext()
    return replica_reads_scope()


def replica_reads(view=None, *, read_your_writes: bool = True):
    """Mark a view's reads as fit for the replica: a function view, or a view class (its
    ``get``, which DRF calls after authentication, so ``request.user`` is the learner).

    ``read_your_writes`` keeps a user who wrote a moment ago on the primary; staff pages that
    only watch figures pass False and skip the cache look-up."""

    def decorate(view):
        if isinstance(view, type):
            view.get = _scoped(view.get, read_your_writes, request_index=1)
            return view
        return _scoped(view, read_your_writes, request_index=0)

    return decorate(view) if view is not None else decorate


def _scoped(handler: Callable, read_your_writes: bool, *, request_index: int) -> Callable:
    @wraps(handler)
    def handle(*args, **kwargs):
        learner = args[request_index].user if read_your_writes else None
        with replica_scope(learner=learner):
            return handler(*args, **kwargs)

    return handle
