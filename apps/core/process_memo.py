"""Values read on every learner request and changed rarely (the sync flags, fitted model
parameters, the badge definitions), kept in the process for a few seconds in front of the
shared cache: each saves a Redis round trip per request, and the mixed load pays for several.

A change made in this process is seen at once (``memo_forget``); one made in another process
within the max age each caller states. Off where ``PROCESS_MEMO`` is False (the test suite,
which changes the shared cache directly between tests)."""

import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings

T = TypeVar("T")
MISSING = object()

_kept: dict[str, tuple[float, object]] = {}


def memo_get(key: str, max_age: float, load: Callable[[], T]) -> T:
    """``load()``'s value, kept in this process for ``max_age`` seconds under ``key``."""
    value = memo_peek(key)
    if value is MISSING:
        value = load()
        memo_put(key, value, max_age)
    return value


def memo_peek(key: str):
    """The value kept under ``key`` if still fresh, else ``MISSING``."""
    entry = _kept.get(key)
    if entry is None or entry[0] <= time.monotonic():
        return MISSING
    return entry[1]


def memo_put(key: str, value, max_age: float) -> None:
    if getattr(settings, "PROCESS_MEMO", True):
        _kept[key] = (time.monotonic() + max_age, value)


def memo_forget(key: str) -> None:
    _kept.pop(key, None)
