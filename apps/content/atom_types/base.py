"""The contract every atom type implements: plain Python and pydantic, no models or settings.

An atom type validates its ``content`` and ``grading_logic`` (pydantic models), parses a
learner's ``response``, grades it, and renders a learner-safe view that never contains an
answer. Grading and rendering work on an ``AtomSnapshot`` (plain data), so the same code grades
a live atom, a pinned revision or an imported row.
"""

from __future__ import annotations

import hashlib
import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

ENGAGEMENT_MODES = ("passive", "active", "constructive", "interactive")
KNOWLEDGE_DIMENSIONS = ("factual", "conceptual", "procedural", "metacognitive")


class StrictModel(BaseModel):
    """Base for content, grading and response models: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


@dataclass(frozen=True)
class OptionData:
    """A response option (mcq, multi_select), as stored in AtomResponseOption rows."""

    index: int
    text: str
    is_correct: bool
    feedback: str = ""
    misconception_id: UUID | None = None


@dataclass(frozen=True)
class AtomSnapshot:
    """Everything grading and rendering need to know about one atom (or one revision of it)."""

    id: str
    atom_type: str
    content: dict
    grading_logic: dict
    options: tuple[OptionData, ...] = ()
    # Seeds display shuffles (parsons, ordering, matching). The selector derives it from a
    # server secret, so a learner cannot recompute the order from the public atom id.
    display_seed: str = ""

    @property
    def shuffle_seed(self) -> str:
        return self.display_seed or self.id


@dataclass(frozen=True)
class GradeResult:
    correct: bool
    score: float  # 0..1, partial credit where the type allows it
    feedback: str = ""
    misconception_id: UUID | None = None
    # Options the learner picked (mcq / multi_select), for selection counters.
    selected_option_indexes: tuple[int, ...] = ()
    # Type-specific breakdown (per blank, per pair...), safe to show after answering.
    details: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must be within 0..1, got {self.score}")


class AtomValidationError(DjangoValidationError):
    """Invalid atom payload. ``errors`` maps a dotted field path to its messages.

    Paths start with ``content``, ``grading_logic``, ``options`` or ``atom_type``
    (for example ``content.options.2.text``). Being a Django ValidationError, it shows up as
    field errors in forms and as a 400 ``validation_error`` in the API.
    """

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__({path: list(messages) for path, messages in errors.items()})

    def __str__(self) -> str:
        return "; ".join(f"{path}: {' '.join(msgs)}" for path, msgs in self.errors.items())


class ResponseValidationError(AtomValidationError):
    """A learner's response does not fit the atom type; paths start with ``response``."""


def errors_from_pydantic(exc: PydanticValidationError, prefix: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for error in exc.errors():
        path = ".".join([prefix, *(str(part) for part in error["loc"])])
        errors.setdefault(path, []).append(error["msg"])
    return errors


def parse_model(model: type[BaseModel], payload: Any, prefix: str) -> BaseModel:
    """Validate ``payload`` against ``model``; raise AtomValidationError with dotted paths."""
    if not isinstance(payload, dict):
        raise AtomValidationError({prefix: ["Must be a JSON object."]})
    try:
        return model.model_validate(payload)
    except PydanticValidationError as exc:
        raise AtomValidationError(errors_from_pydantic(exc, prefix)) from None


def stable_permutation(seed: str, n: int) -> list[int]:
    """A shuffled ``range(n)`` that is the same for the same seed, and never the identity.

    Renderings of ordering-style atoms list items in this order, so a learner cannot read the
    answer off the authored order, while the server can map positions back when grading.
    """
    order = list(range(n))
    if n < 2:
        return order
    digest = hashlib.sha256(seed.encode()).digest()
    random.Random(int.from_bytes(digest[:8], "big")).shuffle(order)  # noqa: S311 - not crypto
    if order == list(range(n)):
        order = order[1:] + order[:1]
    return order


class AtomType(ABC):
    """Subclass this in one module under ``apps/content/atom_types/`` to add an atom type.

    Set the class attributes, implement ``grade`` and ``render``, and override
    ``check_consistency`` for rules that span content, grading logic and options.
    """

    key: ClassVar[str]
    label: ClassVar[str]
    content_model: ClassVar[type[StrictModel]]
    grading_model: ClassVar[type[StrictModel]]
    response_model: ClassVar[type[StrictModel]]
    uses_options: ClassVar[bool] = False
    # Sensible metadata defaults for new atoms of this type (editors can change them).
    default_engagement_mode: ClassVar[str] = "active"
    default_knowledge_dimension: ClassVar[str] = "factual"
    default_element_interactivity: ClassVar[float] = 0.3
    # Example payloads: the admin's starting point, the demo course, and the tests.
    example_content: ClassVar[dict] = {}
    example_grading_logic: ClassVar[dict] = {}
    example_options: ClassVar[tuple[OptionData, ...]] = ()

    # --- validation -------------------------------------------------------------------------
    def validate(
        self, content: Any, grading_logic: Any, options: Sequence[OptionData] = ()
    ) -> tuple[StrictModel, StrictModel]:
        errors: dict[str, list[str]] = {}
        parsed_content = parsed_grading = None
        try:
            parsed_content = parse_model(self.content_model, content, "content")
        except AtomValidationError as exc:
            errors |= exc.errors
        try:
            parsed_grading = parse_model(self.grading_model, grading_logic, "grading_logic")
        except AtomValidationError as exc:
            errors |= exc.errors
        if options and not self.uses_options:
            errors["options"] = [f"{self.label} atoms take no response options."]
        if not errors:
            errors = self.check_consistency(parsed_content, parsed_grading, tuple(options))
        if errors:
            raise AtomValidationError(errors)
        return parsed_content, parsed_grading

    def check_consistency(
        self, content: Any, grading: Any, options: tuple[OptionData, ...]
    ) -> dict[str, list[str]]:
        """Cross-field rules; return ``{path: [messages]}`` (empty when consistent)."""
        return {}

    def parse_response(self, response: Any) -> StrictModel:
        try:
            return parse_model(self.response_model, response, "response")
        except AtomValidationError as exc:
            raise ResponseValidationError(exc.errors) from None

    def misconception_ids(self, content: Any, grading: Any) -> set[UUID]:
        """Misconceptions referenced from the JSON payload (options link theirs by FK)."""
        return set()

    # --- grading and rendering ----------------------------------------------------------
    def grade_response(self, atom: AtomSnapshot, response: Any) -> GradeResult:
        content, grading = self.validate(atom.content, atom.grading_logic, atom.options)
        return self.grade(atom, content, grading, self.parse_response(response))

    @abstractmethod
    def grade(
        self, atom: AtomSnapshot, content: Any, grading: Any, response: Any
    ) -> GradeResult: ...

    @abstractmethod
    def render(self, atom: AtomSnapshot, content: Any) -> dict:
        """Learner-safe, type-specific fields. Never include answers, feedback or links."""

    def search_text(self, content: Any, options: Sequence[OptionData]) -> str:
        """Plain text editors search by; defaults to every string in the content."""
        return " ".join([*_strings(content.model_dump()), *(o.text for o in options)])


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []
