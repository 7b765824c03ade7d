"""Field-aware differences between two atom revision snapshots (pure Python; no Django).

A snapshot is the JSON stored on ``AtomRevision.snapshot`` (see
``selectors.atom_working_snapshot``)::

    {"title": str, "atom_type": str, "content": {...}, "grading_logic": {...},
     "options": [{"index", "text", "is_correct", "feedback", "misconception"}],
     "concepts": [{"concept", "weight"}], "tags": [str], "metadata": {...}}

:func:`snapshot_diff` returns one :class:`Change` per difference, in a fixed order: atom type,
title, content, grading logic, options, concepts, tags, metadata, then any other top-level keys
(alphabetically). Missing (or ``None``) top-level keys count as empty, and options missing a
field count as having its default (see :func:`normalize_snapshot`).

Matching rules:

* ``content`` / ``grading_logic`` / ``metadata`` (and unknown keys) are compared recursively.
  Dict keys are visited in the old snapshot's order, then keys only the new one has. For lists
  of equal length: a list of scalars that are not all strings is reported as ONE change of the
  whole list (a reordering of ``correct_order`` reads ``[0, 1, 2] → [1, 0, 2]``); any other
  list (strings, dicts, nested lists) is compared per index. Lists of different length are
  aligned with :class:`difflib.SequenceMatcher` and reported as element additions/removals
  (old index for a removal, new index for an addition), elements replaced in place being
  compared recursively at their new index.
* Options are matched by their ``index`` field (``options[3]`` in a path means the option whose
  ``index`` is 3, not the list position). If options lack unique indices they are compared as a
  plain list.
* Concepts are matched by concept id; tags are compared as sets.

Summaries: ``path old → new`` with strings repr-quoted; a value whose rendering is long (a
string over 60 characters, or any other value whose repr is) makes the summary ``path
changed``. Top-level scalars read ``title: 'Old' → 'New'``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any, Literal

__all__ = ["Change", "diff_summary", "normalize_snapshot", "snapshot_diff"]

ChangeKind = Literal["added", "removed", "changed"]

MAX_INLINE_CHARS = 60
ARROW = "→"

# Top-level keys, in the order their changes are reported, and their "empty" values.
SNAPSHOT_DEFAULTS: dict[str, Callable[[], Any]] = {
    "atom_type": str,
    "title": str,
    "content": dict,
    "grading_logic": dict,
    "options": list,
    "concepts": list,
    "tags": list,
    "metadata": dict,
}
OPTION_DEFAULTS: dict[str, Callable[[], Any]] = {
    "text": str,
    "is_correct": bool,
    "feedback": str,
    "misconception": lambda: None,
}


class _Missing:
    """Marks a key absent from one side (distinct from a stored ``None``)."""

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "<missing>"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Change:
    """One difference. ``old`` is ``None`` for an addition, ``new`` for a removal."""

    path: str
    kind: ChangeKind
    old: Any
    new: Any
    summary: str


def normalize_snapshot(snapshot: dict | None) -> dict:
    """A shallow copy with every top-level key present (missing or ``None`` → empty value) and
    every option dict carrying ``text``/``is_correct``/``feedback``/``misconception``."""
    result = dict(snapshot or {})
    for key, empty in SNAPSHOT_DEFAULTS.items():
        if result.get(key) is None:
            result[key] = empty()
    options = result["options"]
    if isinstance(options, list):
        result["options"] = [
            {**{k: empty() for k, empty in OPTION_DEFAULTS.items()}, **o}
            if isinstance(o, dict)
            else o
            for o in options
        ]
    return result


# --- formatting -------------------------------------------------------------------------------


def _render(value: Any) -> str | None:
    """The inline rendering of ``value``, or ``None`` if it is too long to inline."""
    if isinstance(value, str) and len(value) > MAX_INLINE_CHARS:
        return None
    text = repr(value)
    return text if isinstance(value, str) or len(text) <= MAX_INLINE_CHARS else None


def _changed_summary(label: str, old: Any, new: Any) -> str:
    old_text, new_text = _render(old), _render(new)
    if old_text is None or new_text is None:
        return f"{label} changed"
    return f"{label} {old_text} {ARROW} {new_text}"


def _added_summary(label: str, value: Any) -> str:
    text = _render(value)
    return f"{label} added: {text}" if text is not None else f"{label} added"


def _removed_summary(label: str, value: Any) -> str:
    text = _render(value)
    return f"{label} removed: {text}" if text is not None else f"{label} removed"


# --- generic recursive diff -------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    """Python equality, except that NaN equals NaN (so a snapshot always equals itself)."""
    try:
        if a == b:
            return True
    except Exception:  # pragma: no cover - exotic __eq__
        return False
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list, tuple))


def _element_key(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return repr(value)


def _child(prefix: str, suffix: str) -> str:
    return f"{prefix}.{suffix}" if prefix else suffix


def _diff_value(path: str, old: Any, new: Any, label: str | None = None) -> list[Change]:
    label = path if label is None else label
    if old is MISSING and new is MISSING:
        return []
    if old is MISSING:
        return [Change(path, "added", None, new, _added_summary(label, new))]
    if new is MISSING:
        return [Change(path, "removed", old, None, _removed_summary(label, old))]
    if _same(old, new):
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        return _diff_dict(path, old, new, label)
    if isinstance(old, (list, tuple)) and isinstance(new, (list, tuple)):
        return _diff_list(path, list(old), list(new), label)
    return [Change(path, "changed", old, new, _changed_summary(label, old, new))]


def _ordered_keys(old: dict, new: dict) -> list:
    return [*old, *(key for key in new if key not in old)]


def _diff_dict(path: str, old: dict, new: dict, label: str) -> list[Change]:
    changes: list[Change] = []
    for key in _ordered_keys(old, new):
        changes += _diff_value(
            _child(path, str(key)),
            old.get(key, MISSING),
            new.get(key, MISSING),
            _child(label, str(key)),
        )
    return changes


def _diff_list(path: str, old: list, new: list, label: str) -> list[Change]:
    if len(old) == len(new):
        both = old + new
        if all(map(_is_scalar, both)) and not all(isinstance(v, str) for v in both):
            if all(_same(a, b) for a, b in zip(old, new, strict=True)):
                return []
            return [Change(path, "changed", old, new, _changed_summary(label, old, new))]
        changes: list[Change] = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            changes += _diff_value(f"{path}[{i}]", a, b, f"{label}[{i}]")
        return changes

    matcher = SequenceMatcher(
        None, [_element_key(v) for v in old], [_element_key(v) for v in new], autojunk=False
    )
    changes = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1)
        for d in range(paired):
            j = j1 + d
            changes += _diff_value(f"{path}[{j}]", old[i1 + d], new[j], f"{label}[{j}]")
        for i in range(i1 + paired, i2):
            changes.append(
                Change(
                    f"{path}[{i}]",
                    "removed",
                    old[i],
                    None,
                    _removed_summary(f"{label}[{i}]", old[i]),
                )
            )
        for j in range(j1 + paired, j2):
            changes.append(
                Change(
                    f"{path}[{j}]", "added", None, new[j], _added_summary(f"{label}[{j}]", new[j])
                )
            )
    return changes


# --- field-aware parts ------------------------------------------------------------------------


def _sorted_keys(keys: Iterable) -> list:
    keys = list(keys)
    try:
        return sorted(keys)
    except TypeError:
        return sorted(keys, key=repr)


def _keyed(items: Any, id_field: str) -> dict | None:
    """``{item[id_field]: item}``, or ``None`` if the items cannot be matched by that field."""
    if not isinstance(items, list):
        return None
    keyed: dict = {}
    for item in items:
        if not isinstance(item, dict) or id_field not in item:
            return None
        key = item[id_field]
        try:
            if key in keyed:
                return None
        except TypeError:  # unhashable id
            return None
        keyed[key] = item
    return keyed


def _diff_top_scalar(key: str, old: Any, new: Any) -> list[Change]:
    if _same(old, new):
        return []
    if not (_is_scalar(old) and _is_scalar(new)):
        return _diff_value(key, old, new)
    old_text, new_text = _render(old), _render(new)
    if old_text is None or new_text is None:
        summary = f"{key} changed"
    else:
        summary = f"{key}: {old_text} {ARROW} {new_text}"
    return [Change(key, "changed", old, new, summary)]


def _diff_option(index: Any, old: dict, new: dict) -> list[Change]:
    base, name = f"options[{index}]", f"option {index}"
    changes: list[Change] = []
    for key in _ordered_keys(old, new):
        if key == "index":
            continue
        a, b = old.get(key, MISSING), new.get(key, MISSING)
        path = f"{base}.{key}"
        if _same(a, b):
            continue
        if key in ("text", "feedback") and a is not MISSING and b is not MISSING:
            changes.append(Change(path, "changed", a, b, f"{name} {key} changed"))
        elif key == "misconception" and a is not MISSING and b is not MISSING:
            if a is None:
                changes.append(Change(path, "added", None, b, f"{name} misconception linked"))
            elif b is None:
                changes.append(Change(path, "removed", a, None, f"{name} misconception unlinked"))
            else:
                changes.append(Change(path, "changed", a, b, f"{name} misconception changed"))
        else:
            changes += _diff_value(path, a, b, f"{name} {key}")
    return changes


def _diff_options(old: Any, new: Any) -> list[Change]:
    old_by_index, new_by_index = _keyed(old, "index"), _keyed(new, "index")
    if old_by_index is None or new_by_index is None:
        return _diff_value("options", old, new)
    changes: list[Change] = []
    for index in _sorted_keys(old_by_index.keys() | new_by_index.keys()):
        path = f"options[{index}]"
        if index not in new_by_index:
            changes.append(
                Change(path, "removed", old_by_index[index], None, f"option {index} removed")
            )
        elif index not in old_by_index:
            changes.append(
                Change(path, "added", None, new_by_index[index], f"option {index} added")
            )
        else:
            changes += _diff_option(index, old_by_index[index], new_by_index[index])
    return changes


def _diff_concepts(old: Any, new: Any) -> list[Change]:
    old_by_id, new_by_id = _keyed(old, "concept"), _keyed(new, "concept")
    if old_by_id is None or new_by_id is None:
        return _diff_value("concepts", old, new)
    changes: list[Change] = []
    for concept in _sorted_keys(old_by_id.keys() | new_by_id.keys()):
        path, name = f"concepts[{concept}]", f"concept {concept}"
        if concept not in new_by_id:
            changes.append(Change(path, "removed", old_by_id[concept], None, f"{name} removed"))
        elif concept not in old_by_id:
            changes.append(Change(path, "added", None, new_by_id[concept], f"{name} added"))
        else:
            a, b = old_by_id[concept], new_by_id[concept]
            for key in _ordered_keys(a, b):
                if key != "concept":
                    changes += _diff_value(
                        f"{path}.{key}", a.get(key, MISSING), b.get(key, MISSING), f"{name} {key}"
                    )
    return changes


def _diff_tags(old: Any, new: Any) -> list[Change]:
    if not (isinstance(old, (list, tuple)) and isinstance(new, (list, tuple))):
        return _diff_value("tags", old, new)
    try:
        old_set, new_set = set(old), set(new)
    except TypeError:  # unhashable tags
        return _diff_value("tags", old, new)
    changes = [
        Change("tags", "added", None, tag, f"tag {tag!r} added")
        for tag in _sorted_keys(new_set - old_set)
    ]
    changes += [
        Change("tags", "removed", tag, None, f"tag {tag!r} removed")
        for tag in _sorted_keys(old_set - new_set)
    ]
    return changes


def snapshot_diff(old: dict | None, new: dict | None) -> list[Change]:
    """Every difference between two snapshots, field by field (``[]`` if they are the same)."""
    old, new = normalize_snapshot(old), normalize_snapshot(new)
    changes: list[Change] = []
    changes += _diff_top_scalar("atom_type", old["atom_type"], new["atom_type"])
    changes += _diff_top_scalar("title", old["title"], new["title"])
    changes += _diff_value("content", old["content"], new["content"])
    changes += _diff_value("grading_logic", old["grading_logic"], new["grading_logic"])
    changes += _diff_options(old["options"], new["options"])
    changes += _diff_concepts(old["concepts"], new["concepts"])
    changes += _diff_tags(old["tags"], new["tags"])
    changes += _diff_value("metadata", old["metadata"], new["metadata"])
    extra = (old.keys() | new.keys()) - SNAPSHOT_DEFAULTS.keys()
    for key in _sorted_keys(extra):
        changes += _diff_value(str(key), old.get(key, MISSING), new.get(key, MISSING))
    return changes


def diff_summary(changes: Iterable[Change]) -> str:
    """The changes' summaries joined with ``"; "``."""
    return "; ".join(change.summary for change in changes)
