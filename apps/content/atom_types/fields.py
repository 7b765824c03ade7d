"""Field types shared by several atom types. Defines no AtomType, so nothing registers here."""

from typing import Annotated, Any
from uuid import UUID

from pydantic import BeforeValidator


def _blank_to_none(value: Any) -> Any:
    # Generated admin forms submit an untouched text box as "", meaning "none".
    return None if isinstance(value, str) and not value.strip() else value


# An optional link to a curriculum Misconception (the service checks that it exists).
MisconceptionRef = Annotated[UUID | None, BeforeValidator(_blank_to_none)]
