"""Writes to learning atoms. Every path (admin, API, import, demo) validates through here."""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.models import Origin
from apps.core.services import audit_record
from apps.core.storable import unstorable_text
from apps.curriculum.models import Concept, Misconception

from ..atom_types import AtomValidationError, GradeResult, OptionData, get_atom_type
from ..atom_types.base import parse_model
from ..media_validation import media_type_validate
from ..models import (
    AtomConceptWeight,
    AtomMedia,
    AtomResponseOption,
    AtomStatus,
    LearningAtom,
    Tag,
)
from ..selectors import atom_snapshot
from .revisions import atom_edit_recorded, revision_record
from .workflow import atom_edit_guard, live_revision_pin

# Metadata editors may set besides the typed payload.
ATOM_METADATA_FIELDS = (
    "engagement_mode",
    "element_interactivity",
    "knowledge_dimension",
    "difficulty",
    "irt_a",
    "irt_b",
    "irt_c",
    "estimated_time_s",
    "schema_version",
)


@dataclass(frozen=True)
class ConceptWeightInput:
    concept: Concept
    weight: float = 1.0


@dataclass(frozen=True)
class MediaInput:
    """An image or audio file to store with an atom (``atom_create(media=...)``)."""

    uploaded_file: Any
    alt_text: str = ""
    position: int = 0


def atom_payload_validate(
    *,
    atom_type: str,
    content: Any,
    grading_logic: Any,
    options: Sequence[OptionData] | None = (),
) -> None:
    """Validate a typed payload, including that referenced misconceptions exist.

    ``options=None`` means the options are not known yet (the admin's main form: its option
    rows arrive in an inline, which validates them with the payload again). For a type that
    uses options only the content and grading are checked then, not the rules that need the
    options. Raises AtomValidationError with dotted field paths.
    """
    pending = options is None
    options = options or ()
    stored = {"content": content, "grading_logic": grading_logic,
              "options": [[o.text, o.feedback] for o in options]}  # fmt: skip
    for name, value in stored.items():
        if problem := unstorable_text(value):
            raise AtomValidationError({name: [f"Contains {problem}, which cannot be stored."]})
    kind = get_atom_type(atom_type)
    if pending and kind.uses_options:
        parsed_content, parsed_grading = _payload_parse(kind, content, grading_logic)
    else:
        parsed_content, parsed_grading = kind.validate(content, grading_logic, options)
    referenced = kind.misconception_ids(parsed_content, parsed_grading) | {
        o.misconception_id for o in options if o.misconception_id
    }
    referenced = {uuid.UUID(str(ref)) for ref in referenced}
    if referenced:
        known = set(Misconception.objects.filter(pk__in=referenced).values_list("pk", flat=True))
        missing = referenced - known
        if missing:
            raise AtomValidationError(
                {"misconceptions": [f"Unknown misconception ids: {sorted(map(str, missing))}."]}
            )


def _payload_parse(kind, content: Any, grading_logic: Any) -> tuple[Any, Any]:
    """Parse content and grading against the type's models, without the cross-field rules."""
    errors: dict[str, list[str]] = {}
    parsed = []
    for model, payload, prefix in (
        (kind.content_model, content, "content"),
        (kind.grading_model, grading_logic, "grading_logic"),
    ):
        try:
            parsed.append(parse_model(model, payload, prefix))
        except AtomValidationError as exc:
            errors |= exc.errors
    if errors:
        raise AtomValidationError(errors)
    return parsed[0], parsed[1]


def option_data_from(options: Iterable[dict | OptionData]) -> list[OptionData]:
    result = []
    for position, option in enumerate(options):
        if isinstance(option, OptionData):
            result.append(option)
            continue
        misconception = option.get("misconception")
        result.append(
            OptionData(
                index=option.get("index", position),
                text=option["text"],
                is_correct=bool(option.get("is_correct", False)),
                feedback=option.get("feedback", ""),
                misconception_id=_uuid_or_none(getattr(misconception, "pk", misconception)),
            )
        )
    return result


def _uuid_or_none(value) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise AtomValidationError({"options": [f"{value!r} is not a misconception id."]}) from None


def atom_create(
    *,
    by,
    title: str,
    atom_type: str,
    content: dict,
    grading_logic: dict,
    options: Iterable[dict | OptionData] = (),
    concept_weights: Iterable[ConceptWeightInput] = (),
    tags: Iterable[str | Tag] = (),
    media: Iterable[MediaInput] = (),
    status: str = "draft",
    source: str = "api",
    external_id: str | None = None,
    legacy_key: str | None = None,
    **metadata,
) -> LearningAtom:
    """Create an atom with its options, concept weights, tags and media, all validated first,
    and record its first revision (audited as ``create``). ``status`` other than draft is for
    trusted loaders (demo data, legacy sync); published atoms get their first revision pinned.
    ``legacy_key`` marks an atom migrated from v1 (its origin is then ``legacy``)."""
    option_data = option_data_from(options)
    atom_payload_validate(
        atom_type=atom_type, content=content, grading_logic=grading_logic, options=option_data
    )
    weights = list(concept_weights)
    atom_concept_weights_validate(weights=weights)
    media = [(item, media_type_validate(item.uploaded_file)) for item in media]
    kind = get_atom_type(atom_type)
    metadata = {
        "engagement_mode": kind.default_engagement_mode,
        "knowledge_dimension": kind.default_knowledge_dimension,
        "element_interactivity": kind.default_element_interactivity,
        **_only_metadata(metadata),
    }
    atom = LearningAtom(
        title=title,
        atom_type=atom_type,
        content=content,
        grading_logic=grading_logic,
        status=status,
        external_id=external_id or None,
        origin=Origin.LEGACY if legacy_key else Origin.V2,
        legacy_key=legacy_key,
        created_by=by if getattr(by, "pk", None) else None,
        last_edited_by=by if getattr(by, "pk", None) else None,
        **metadata,
    )
    atom_fields_validate(atom)
    with transaction.atomic():
        atom.save()
        _options_replace(atom, option_data)
        _concept_weights_replace(atom, weights)
        _tags_replace(atom, tags)
        for item, media_type in media:
            _media_store(atom, item, media_type)
        atom_derived_fields_refresh(atom=atom)
        revision = revision_record(atom=atom, by=by, source=source, message="Created")
        if status == AtomStatus.PUBLISHED:
            live_revision_pin(atom=atom, revision=revision)
        audit_record(actor=by, source=source, action="create", target=atom, to_state=status)
    return atom


def atom_update(
    *,
    atom: LearningAtom,
    by,
    options: Iterable[dict | OptionData] | None = None,
    source: str = "api",
    record: bool = True,
    **fields,
) -> LearningAtom:
    """Change an atom's working copy; options are replaced when given.

    Refused while someone else holds the edit lock or the atom waits for scheduled
    publication. Records a revision and returns a reviewed or published atom to draft
    (``record=False`` leaves that to a caller that records once for several changes).
    """
    atom_edit_guard(atom=atom, by=by)
    unknown = set(fields) - {"title", "content", "grading_logic", *ATOM_METADATA_FIELDS}
    if unknown:
        raise ValidationError(f"Unknown atom fields: {', '.join(sorted(unknown))}.")
    for name, value in fields.items():
        setattr(atom, name, value)
    option_data = (
        option_data_from(options) if options is not None else list(atom_snapshot(atom).options)
    )
    atom_payload_validate(
        atom_type=atom.atom_type,
        content=atom.content,
        grading_logic=atom.grading_logic,
        options=option_data,
    )
    atom_fields_validate(atom)
    with transaction.atomic():
        atom.save()
        if options is not None:
            _options_replace(atom, option_data)
        atom_derived_fields_refresh(atom=atom)
        if record:
            atom_edit_recorded(atom=atom, by=by, source=source)
    return atom


def atom_fields_validate(atom: LearningAtom) -> None:
    """Field-level validation (ranges, choices, uniqueness) with readable errors.

    The model's check constraints restate the field validators and the database enforces
    them; Django would check each one with a query of its own, ten per save, so they are left
    to the database here.
    """
    atom.full_clean(
        exclude=["created_by", "last_edited_by", "published_revision"], validate_constraints=False
    )


def _only_metadata(metadata: dict) -> dict:
    unknown = set(metadata) - set(ATOM_METADATA_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown atom fields: {', '.join(sorted(unknown))}.")
    return metadata


def _options_replace(atom: LearningAtom, options: Sequence[OptionData]) -> None:
    """Make ``options`` the atom's options. A row whose index stays is updated in place, so it
    keeps its id and its item statistics (which are computed per option index)."""
    existing = {o.option_index: o for o in atom.options.all()}
    wanted = {o.index for o in options}
    AtomResponseOption.objects.filter(
        pk__in=[row.pk for index, row in existing.items() if index not in wanted]
    ).delete()
    changed, added = [], []
    for option in options:
        values = {
            "text": option.text,
            "is_correct": option.is_correct,
            "feedback": option.feedback,
            "misconception_id": option.misconception_id,
        }
        row = existing.get(option.index)
        if row is None:
            added.append(AtomResponseOption(atom=atom, option_index=option.index, **values))
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            changed.append(row)
    AtomResponseOption.objects.bulk_update(changed, ["text", "is_correct", "feedback",
                                                     "misconception_id"])  # fmt: skip
    AtomResponseOption.objects.bulk_create(added)


def atom_concept_weights_validate(*, weights: Sequence[ConceptWeightInput]) -> None:
    """Raise ValidationError unless every weight is in (0, 1] and no concept repeats."""
    for weight in weights:
        if not 0.0 < weight.weight <= 1.0:
            raise ValidationError(
                {"concept_weights": [f"Weight for {weight.concept} must be in (0, 1]."]}
            )
    concepts = [w.concept.pk for w in weights]
    if len(set(concepts)) != len(concepts):
        raise ValidationError({"concept_weights": ["Each concept may be linked once."]})


def atom_concept_weights_set(
    *, atom: LearningAtom, weights: Iterable[ConceptWeightInput], by=None
) -> None:
    """Replace the concepts the atom exercises. Records no revision: callers record one for
    the whole edit (``atom_edit_recorded``).

    With ``by`` the edit guard runs (someone else's lock, scheduled publication, archived).
    Callers that ran it already in the same edit (``atom_update`` before this, as import and
    revert do) may leave ``by`` out.
    """
    weights = list(weights)
    if by is not None:
        atom_edit_guard(atom=atom, by=by)
    atom_concept_weights_validate(weights=weights)
    with transaction.atomic():
        _concept_weights_replace(atom, weights)


def _concept_weights_replace(atom: LearningAtom, weights: Sequence[ConceptWeightInput]) -> None:
    AtomConceptWeight.objects.filter(atom=atom).delete()
    AtomConceptWeight.objects.bulk_create(
        AtomConceptWeight(atom=atom, concept=w.concept, weight=w.weight) for w in weights
    )


def atom_tags_set(*, atom: LearningAtom, names: Iterable[str | Tag], by=None) -> None:
    """Replace the atom's tags: names (lower-cased, created when new) or Tag rows. Records no
    revision; ``by`` runs the edit guard, as for ``atom_concept_weights_set``."""
    if by is not None:
        atom_edit_guard(atom=atom, by=by)
    _tags_replace(atom, names)


def _tags_replace(atom: LearningAtom, names: Iterable[str | Tag]) -> None:
    tags = [
        name if isinstance(name, Tag) else Tag.objects.get_or_create(name=name.strip().lower())[0]
        for name in names
        if name
    ]
    atom.tags.set(tags)


def atom_derived_fields_refresh(*, atom: LearningAtom) -> LearningAtom:
    """Recompute what is derived from the payload (the search text). Call after any save,
    including the admin's, once options are stored."""
    snapshot = atom_snapshot(atom)
    kind = get_atom_type(atom.atom_type)
    content, _ = kind.validate(snapshot.content, snapshot.grading_logic, snapshot.options)
    atom.search_text = kind.search_text(content, snapshot.options)
    LearningAtom.objects.filter(pk=atom.pk).update(search_text=atom.search_text)
    return atom


def atom_answer_check(*, atom: LearningAtom, response: Any) -> GradeResult:
    """Grade a response without recording anything: the editors' "check an answer" box.

    Raises ResponseValidationError for a malformed response.
    """
    snapshot = atom_snapshot(atom)
    return get_atom_type(atom.atom_type).grade_response(snapshot, response)


def atom_media_attach(
    *,
    atom: LearningAtom,
    uploaded_file,
    by=None,
    alt_text: str = "",
    position: int = 0,
    source: str = "api",
    record: bool = True,
) -> AtomMedia:
    """Store an image or audio file for ``atom``; its type is sniffed and its size capped.

    Media are part of the working copy: learners see them once a revision holding them is
    published. Refused like any edit (``atom_edit_guard``); ``record=False`` leaves the
    revision to a caller that records once for several changes.
    """
    atom_edit_guard(atom=atom, by=by)
    media_type = media_type_validate(uploaded_file)
    with transaction.atomic():
        media = _media_store(atom, MediaInput(uploaded_file, alt_text, position), media_type)
        if record:
            atom_edit_recorded(atom=atom, by=by, source=source, message="Media attached")
    return media


def _media_store(atom: LearningAtom, item: MediaInput, media_type) -> AtomMedia:
    return AtomMedia.objects.create(
        atom=atom,
        kind=media_type.kind,
        content_type=media_type.content_type,
        size_bytes=item.uploaded_file.size,
        file=item.uploaded_file,
        alt_text=item.alt_text,
        position=item.position,
    )


def atom_media_update(
    *,
    media: AtomMedia,
    by=None,
    alt_text: str | None = None,
    position: int | None = None,
    uploaded_file=None,
    source: str = "api",
    record: bool = True,
) -> AtomMedia:
    """Change a media item's description or position, or replace its file (sniffed and capped
    like a new one). Refused like any edit of its atom; ``record`` as for
    ``atom_media_attach``. A replaced file stays in storage: published revisions may show it.
    """
    atom = media.atom
    atom_edit_guard(atom=atom, by=by)
    if uploaded_file is not None:
        media_type = media_type_validate(uploaded_file)
        media.kind, media.content_type = media_type.kind, media_type.content_type
        media.size_bytes, media.file = uploaded_file.size, uploaded_file
    if alt_text is not None:
        media.alt_text = alt_text
    if position is not None:
        media.position = position
    media.full_clean(exclude=["atom", "file"], validate_constraints=False)
    with transaction.atomic():
        media.save()
        if record:
            atom_edit_recorded(atom=atom, by=by, source=source, message="Media changed")
    return media


def atom_media_detach(*, media: AtomMedia, by=None, source: str = "api", record: bool = True):
    """Remove a media item from the atom's working copy. Refused like any edit of its atom;
    ``record`` as for ``atom_media_attach``. The file stays in storage: the published
    revision, and older ones that may be restored, still link it."""
    atom = media.atom
    atom_edit_guard(atom=atom, by=by)
    with transaction.atomic():
        media.delete()
        if record:
            atom_edit_recorded(atom=atom, by=by, source=source, message="Media removed")
