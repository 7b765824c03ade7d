"""Version tokens of derived read caches: a reader keys what it keeps by the token of what it
was derived from, and a writer changes the token when that source changes, so nobody serves a
copy from before the change.

A token is random, not a counter: when the cache loses it (a Redis restart, an eviction) the
next reader draws a new one, which matches no copy kept under an old token. Tokens live in the
default cache, shared by every process with Redis; with the embedded local-memory cache each
process has its own, so readers also bound how long they keep a copy.
"""

import uuid

from django.core.cache import cache
from django.db import transaction

_PREFIX = "cache-version:"


def cache_version(name: str) -> str:
    """The current token of ``name`` (one cache read; a new token if there is none)."""
    token = cache.get(_PREFIX + name)
    if token is None:
        cache.add(_PREFIX + name, uuid.uuid4().hex, timeout=None)
        token = cache.get(_PREFIX + name)
    return token


def cache_version_bump(name: str) -> None:
    """What ``name`` derives from is changing: a new token now (this transaction's own reads
    already see the change) and again once the transaction commits, so a copy another process
    built from the data as it was before the commit is dropped too."""

    def bump() -> None:
        cache.set(_PREFIX + name, uuid.uuid4().hex, timeout=None)

    bump()
    transaction.on_commit(bump)
