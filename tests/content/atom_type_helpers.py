"""Helpers for the atom-type tests: build snapshots from each type's examples, collect the
dotted error paths of a failed validation, and find rendered ids by text."""

from collections.abc import Callable
from typing import Any

import pytest

from apps.content.atom_types import (
    AtomSnapshot,
    AtomValidationError,
    GradeResult,
    OptionData,
    ResponseValidationError,
    get_atom_type,
)

ATOM_ID = "3f0c6a1e-8d2b-4a57-9e61-2b7d4c8f9a10"
_EXAMPLE = object()


def snapshot(
    key: str,
    content: Any = _EXAMPLE,
    grading: Any = _EXAMPLE,
    options: tuple[OptionData, ...] | object = _EXAMPLE,
    atom_id: str = ATOM_ID,
) -> AtomSnapshot:
    """An atom of type ``key``; anything not given comes from the type's examples."""
    kind = get_atom_type(key)
    return AtomSnapshot(
        id=atom_id,
        atom_type=key,
        content=kind.example_content if content is _EXAMPLE else content,
        grading_logic=kind.example_grading_logic if grading is _EXAMPLE else grading,
        options=kind.example_options if options is _EXAMPLE else tuple(options),
    )


def validation_errors(key: str, **snapshot_kwargs) -> dict[str, list[str]]:
    """The errors of validating the atom; fails the test if it validates."""
    atom = snapshot(key, **snapshot_kwargs)
    with pytest.raises(AtomValidationError) as info:
        get_atom_type(key).validate(atom.content, atom.grading_logic, atom.options)
    assert not isinstance(info.value, ResponseValidationError)
    return info.value.errors


def grade(key: str, response: Any, **snapshot_kwargs) -> GradeResult:
    return get_atom_type(key).grade_response(snapshot(key, **snapshot_kwargs), response)


def response_errors(key: str, response: Any, **snapshot_kwargs) -> dict[str, list[str]]:
    """The errors of grading ``response``; fails the test unless it is a response error."""
    with pytest.raises(ResponseValidationError) as info:
        grade(key, response, **snapshot_kwargs)
    assert all(path == "response" or path.startswith("response.") for path in info.value.errors)
    return info.value.errors


def render(key: str, **snapshot_kwargs) -> dict:
    kind = get_atom_type(key)
    atom = snapshot(key, **snapshot_kwargs)
    content, _ = kind.validate(atom.content, atom.grading_logic, atom.options)
    return kind.render(atom, content)


def ids_for(rendered_items: list[dict], texts: list[str]) -> list[int]:
    """Rendered ids showing ``texts`` in that order (each id used once)."""
    unused = list(rendered_items)
    ids = []
    for text in texts:
        item = next(item for item in unused if item["text"] == text)
        unused.remove(item)
        ids.append(item["id"])
    return ids


def sequence_response(key: str, items_field: str, indexes: list[int], **snapshot_kwargs):
    """The ``{"order": [...]}`` response listing authored ``indexes`` by their rendered ids."""
    atom = snapshot(key, **snapshot_kwargs)
    texts = [atom.content[items_field][i] for i in indexes]
    rendered = render(key, **snapshot_kwargs)[items_field]
    return {"order": ids_for(rendered, texts)}


def walk_keys(value: Any, visit: Callable[[str], None]) -> None:
    """Call ``visit`` with every dict key in a JSON-like structure."""
    if isinstance(value, dict):
        for key, item in value.items():
            visit(key)
            walk_keys(item, visit)
    elif isinstance(value, list | tuple):
        for item in value:
            walk_keys(item, visit)
