"""Version tokens of derived read caches: a reader keys what it keeps by the token of what it
was derived from, and a writer changes the token when that source changes, so nobody serves a
copy from before the change.

A token is random, not a counter: when the cache loses it (a Redis restart, an eviction) the
next reader draws a new one, which matches no copy kept under an old token. Tokens live in the
default cache, shared by every process with Redis; with the embedded local-memory cache each
process has its own, so readers also bound how long they keep a copy.

Within a web request the tokens are read once, together: the request's first read fetches
every token this process has used so far in one round trip (next items and an answer each
need two or three), and the request keeps them, as if it ran at that moment. A bump made by
the request itself applies to it at once. Outside a request (tasks, commands) each read goes
to the cache.
"""

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction

_PREFIX = "cache-version:"


_names_used: set[str] = set()  # by this process: a request reads them all at once
_request = threading.local()  # .tokens: {name: token} while a web request runs


def cache_version(name: str) -> str:
    """The current token of ``name`` (a new one if there is none); in a web request, as of the
    request's first read of any token."""
    _names_used.add(name)
    tokens = getattr(_request, "tokens", None)
    if tokens is None:
        return _tokens_read([name])[name]
    if name not in tokens:
        tokens.update(_tokens_read(_names_used - tokens.keys()))
    return tokens[name]


def _tokens_read(names) -> dict[str, str]:
    """{name: token} in one cache read; a missing token is drawn (``add``: a racing reader's
    draw wins) and read again."""
    found = cache.get_many([_PREFIX + name for name in names])
    tokens = {name: found.get(_PREFIX + name) for name in names}
    for name in [name for name, token in tokens.items() if token is None]:
        cache.add(_PREFIX + name, uuid.uuid4().hex, timeout=None)
        tokens[name] = cache.get(_PREFIX + name)
    return tokens


def request_tokens_begin(**kwargs) -> None:
    """``request_started``: the request reads its tokens afresh."""
    _request.tokens = {}


def request_tokens_end(**kwargs) -> None:
    """``request_finished``: back to reading each time (tasks, commands, the shell)."""
    _request.tokens = None


def cache_version_bump(name: str) -> None:
    """What ``name`` derives from is changing: a new token now (this transaction's own reads
    already see the change) and again once the transaction commits, so a copy another process
    built from the data as it was before the commit is dropped too."""

    def bump() -> None:
        token = uuid.uuid4().hex
        cache.set(_PREFIX + name, token, timeout=None)
        if (tokens := getattr(_request, "tokens", None)) is not None:
            tokens[name] = token  # this request sees its own change

    bump()
    transaction.on_commit(bump)


class KeptByVersion:
    """Values derived from ``version_name``'s source, kept in this process one per key: reused
    while the token is current and the copy is younger than the caller's ``max_age`` (writes
    that bypass the bump; the embedded cache's per-process tokens), the least recently used
    dropped past ``max_entries``. Each ``get`` costs one cache read when the copy is current."""

    def __init__(self, version_name: str, max_entries: int) -> None:
        self.version_name = version_name
        self.max_entries = max_entries
        self._kept: OrderedDict = OrderedDict()  # key → (token, built at, value)

    def get(self, key, build: Callable, max_age: float):
        token = cache_version(self.version_name)  # read before building: a bump during it wins
        kept = self._kept.get(key)
        if kept is not None and kept[0] == token and time.monotonic() - kept[1] < max_age:
            self._kept.move_to_end(key)
            return kept[2]
        built_at = time.monotonic()
        value = build(key)
        self._kept[key] = (token, built_at, value)
        self._kept.move_to_end(key)
        while len(self._kept) > self.max_entries:
            self._kept.popitem(last=False)
        return value

    def clear(self) -> None:
        self._kept.clear()
