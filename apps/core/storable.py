"""Text the database cannot store, found before a write fails with a 500.

PostgreSQL refuses NUL in text and JSON, and UTF-16 surrogates with no pair (which JSON
can spell as ``"\\ud800"``) cannot be encoded as UTF-8 at all.
"""

import re
from typing import Any

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_text(value: Any) -> str | None:
    """Why ``value`` (a string, or any JSON-like structure) cannot be stored, or None."""
    if isinstance(value, str):
        match = _UNSTORABLE.search(value)
        if match is None:
            return None
        return "a NUL character" if match.group() == "\x00" else "an unpaired surrogate character"
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list | tuple):
        return next((problem for problem in map(unstorable_text, value) if problem), None)
    return None
