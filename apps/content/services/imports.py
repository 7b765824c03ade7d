"""Bulk import: upload → dry-run plan (row by row) → confirm → apply. Runs as Celery tasks so
10k-atom files do not block a request; the job row carries progress for the admin's bar."""

import functools
import logging
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.dispatch import enqueue_on_commit
from apps.core.services import audit_record
from apps.core.storable import unstorable_text
from apps.curriculum.models import Concept

from ..atom_types import AtomValidationError
from ..interchange.records import ParsedRow, parse_csv, parse_json
from ..models import ImportFormat, ImportJob, ImportStatus, LearningAtom
from ..revision_diff import snapshot_diff
from ..selectors import atom_working_snapshot
from .atoms import (
    ATOM_METADATA_FIELDS,
    ConceptWeightInput,
    atom_concept_weights_set,
    atom_create,
    atom_payload_validate,
    atom_tags_set,
    atom_update,
    option_data_from,
)
from .revisions import atom_edit_recorded
from .workflow import atom_edit_guard

PROGRESS_EVERY = 50
logger = logging.getLogger(__name__)


def import_job_create(*, by, uploaded_file, file_format: str) -> ImportJob:
    """Store the upload and start its dry run (a Celery task, after commit)."""
    if not by.has_perm("content.import_atoms"):
        raise PermissionDenied("You do not have permission to import atoms.")
    if file_format not in ImportFormat.values:
        raise ValidationError({"format": [f"Choose one of {', '.join(ImportFormat.values)}."]})
    from ..tasks import import_preview_task

    with transaction.atomic():
        job = ImportJob.objects.create(
            created_by=by,
            file=uploaded_file,
            original_name=uploaded_file.name[:255],
            format=file_format,
        )
        enqueue_on_commit(import_preview_task, str(job.pk))
    return job


def import_job_confirm(*, job: ImportJob, by) -> ImportJob:
    """Apply a previewed job. Refused while the preview shows any row error: fix the file
    and upload it again, so nothing is imported half-way by accident."""
    if job.created_by_id != by.pk and not by.is_superuser:
        raise PermissionDenied("Only the person who uploaded the file can confirm it.")
    from ..tasks import import_apply_task

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportStatus.PREVIEWED:
            raise ValidationError(f"This import is {job.status}, not waiting for confirmation.")
        if job.error_count:
            raise ValidationError(
                f"{job.error_count} row(s) have errors. Fix them and upload the file again."
            )
        job.status, job.processed_rows = ImportStatus.IMPORTING, 0
        job.save(update_fields=["status", "processed_rows"])
        enqueue_on_commit(import_apply_task, str(job.pk))
    return job


def _read_rows(job: ImportJob) -> list[ParsedRow]:
    """The file's rows, whatever the format; a row with text the database cannot store is a
    row error here, before anything (the plan included) tries to store it."""
    return [_storable(row) for row in _parsed_rows(job)]


def _parsed_rows(job: ImportJob) -> list[ParsedRow]:
    with job.file.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    if job.format == ImportFormat.JSON:
        return parse_json(text)
    if job.format == ImportFormat.CSV:
        return parse_csv(text)
    from ..interchange.gift import parse_gift

    return [
        ParsedRow(item.line, item.record, item.error, tuple(item.warnings))
        for item in parse_gift(text)
    ]


def _storable(row: ParsedRow) -> ParsedRow:
    problem = unstorable_text(row.record) if row.record is not None else None
    if problem is None:
        return row
    return ParsedRow(row.line, None, f"Contains {problem}, which cannot be stored.")


def _progress(job: ImportJob, processed: int, **counts) -> None:
    ImportJob.objects.filter(pk=job.pk).update(processed_rows=processed, **counts)


def _failing_job_marked(step):
    """A job whose step breaks unexpectedly is marked failed with the reason, never left
    previewing or importing for ever (the worker would otherwise retry it in silence)."""

    @functools.wraps(step)
    def run(*, job: ImportJob) -> ImportJob:
        try:
            return step(job=job)
        except Exception as exc:
            logger.exception("Import job %s failed", job.pk)
            return _fail(job, f"Unexpected error: {type(exc).__name__}: {exc}"[:2000])

    return run


@_failing_job_marked
def import_job_preview(*, job: ImportJob) -> ImportJob:
    """Plan every row: create, update, unchanged, or error (with reasons). Writes no atoms."""
    try:
        rows = _read_rows(job)
    except (ValueError, UnicodeDecodeError) as exc:
        return _fail(job, f"The file cannot be read: {exc}")
    ImportJob.objects.filter(pk=job.pk).update(total_rows=len(rows), processed_rows=0)
    plan, seen = [], set()
    for number, row in enumerate(rows, start=1):
        plan.append(_plan_row(row, seen))
        if number % PROGRESS_EVERY == 0:
            _progress(job, number)
    counts = {action: sum(1 for p in plan if p["action"] == action) for action in ACTIONS}
    ImportJob.objects.filter(pk=job.pk).update(
        plan=plan,
        processed_rows=len(rows),
        status=ImportStatus.PREVIEWED,
        created_count=counts["create"],
        updated_count=counts["update"],
        unchanged_count=counts["unchanged"],
        error_count=counts["error"],
    )
    job.refresh_from_db()
    return job


ACTIONS = ("create", "update", "unchanged", "error")


@_failing_job_marked
def import_job_apply(*, job: ImportJob) -> ImportJob:
    """Apply the confirmed job row by row, re-checking each row against the database as it is
    now. A row that became invalid since the preview is reported as an error, not skipped."""
    by = job.created_by
    try:
        rows = _read_rows(job)
    except (ValueError, UnicodeDecodeError) as exc:
        return _fail(job, f"The file cannot be read: {exc}")
    plan, seen = [], set()
    counts = dict.fromkeys(ACTIONS, 0)
    for number, row in enumerate(rows, start=1):
        entry = _plan_row(row, seen)
        if entry["action"] in ("create", "update"):
            try:
                _apply_row(row.record, entry, by)
            except (AtomValidationError, ValidationError) as exc:
                entry |= {"action": "error", "errors": _messages(exc)}
        counts[entry["action"]] += 1
        plan.append(entry)
        if number % PROGRESS_EVERY == 0:
            _progress(job, number)
    ImportJob.objects.filter(pk=job.pk).update(
        plan=plan,
        processed_rows=len(rows),
        status=ImportStatus.DONE,
        finished_at=timezone.now(),
        created_count=counts["create"],
        updated_count=counts["update"],
        unchanged_count=counts["unchanged"],
        error_count=counts["error"],
    )
    job.refresh_from_db()
    return job


def _fail(job: ImportJob, reason: str) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED, failure=reason, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, AtomValidationError):
        return [f"{path}: {' '.join(msgs)}" for path, msgs in exc.errors.items()]
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return [f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()]
        return list(exc.messages)
    return [str(exc)]


def _find_existing(external_id: str | None) -> LearningAtom | None:
    if not external_id:
        return None
    atom = LearningAtom.objects.filter(external_id=external_id).first()
    if atom is None:
        try:
            atom = LearningAtom.objects.filter(pk=uuid.UUID(external_id)).first()
        except ValueError:
            atom = None
    return atom


def _resolve_concepts(record: dict) -> tuple[list[ConceptWeightInput], list[str]]:
    weights, errors = [], []
    for link in record["concepts"]:
        if not isinstance(link, dict) or "concept" not in link:
            errors.append('concepts: each needs {"course", "concept", "weight"}.')
            continue
        concept = Concept.objects.filter(
            course__slug=link.get("course", ""), text=link["concept"]
        ).first()
        if concept is None:
            errors.append(
                f"concepts: no concept {link['concept']!r} in course {link.get('course')!r}."
            )
            continue
        weights.append(ConceptWeightInput(concept, float(link.get("weight", 1.0))))
    return weights, errors


def _plan_row(row: ParsedRow, seen: set) -> dict:
    entry = {
        "line": row.line,
        "external_id": None,
        "title": "",
        "action": "error",
        "warnings": list(row.warnings),
    }
    if row.record is None:
        return entry | {"errors": [row.error or "Unreadable row."], "changes": []}
    record = row.record
    entry |= {"external_id": record["external_id"], "title": record["title"]}
    errors: list[str] = []
    if not record["title"]:
        errors.append("title: required.")
    if record["external_id"] and record["external_id"] in seen:
        errors.append(f"external_id {record['external_id']!r} appears twice in this file.")
    seen.add(record["external_id"])
    unknown = set(record["metadata"]) - set(ATOM_METADATA_FIELDS)
    if unknown:
        errors.append(f"metadata: unknown field(s) {', '.join(sorted(unknown))}.")
    weights, concept_errors = _resolve_concepts(record)
    errors += concept_errors
    try:
        atom_payload_validate(
            atom_type=record["atom_type"],
            content=record["content"],
            grading_logic=record["grading_logic"],
            options=option_data_from(_options(record)),
        )
    except (AtomValidationError, ValidationError, KeyError, TypeError) as exc:
        errors += _messages(exc)
    existing = _find_existing(record["external_id"])
    if existing is not None:
        if existing.atom_type != record["atom_type"]:
            errors.append(
                f"atom_type: the existing atom is {existing.atom_type}; types cannot change."
            )
        try:
            atom_edit_guard(atom=existing, by=None)
        except ValidationError as exc:
            errors += [f"cannot update: {m}" for m in exc.messages]
    if errors:
        return entry | {"errors": errors, "changes": []}
    if existing is None:
        return entry | {"action": "create", "errors": [], "changes": []}
    current = atom_working_snapshot(existing)
    proposed = _as_snapshot(record, weights, current)
    changes = [c.summary for c in snapshot_diff(current, proposed)]
    action = "update" if changes else "unchanged"
    return entry | {"action": action, "errors": [], "changes": changes, "atom": str(existing.pk)}


def _options(record: dict) -> list[dict]:
    return [
        {**option, "index": option.get("index", position)}
        for position, option in enumerate(record["options"])
    ]


def _as_snapshot(record: dict, weights: list[ConceptWeightInput], current: dict) -> dict:
    return {
        "title": record["title"],
        "atom_type": record["atom_type"],
        "content": record["content"],
        "grading_logic": record["grading_logic"],
        "options": [
            {
                "index": o["index"],
                "text": o["text"],
                "is_correct": bool(o.get("is_correct", False)),
                "feedback": o.get("feedback", ""),
                "misconception": o.get("misconception") or None,
            }
            for o in _options(record)
        ],
        "concepts": sorted(
            ({"concept": str(w.concept.pk), "weight": w.weight} for w in weights),
            key=lambda link: link["concept"],
        ),
        "tags": sorted(record["tags"]),
        "media": current["media"],  # files do not travel in import records
        "metadata": {**current["metadata"], **record["metadata"]},
    }


def _apply_row(record: dict, entry: dict, by) -> None:
    weights, _ = _resolve_concepts(record)
    with transaction.atomic():
        if entry["action"] == "create":
            atom = atom_create(
                by=by,
                title=record["title"],
                atom_type=record["atom_type"],
                content=record["content"],
                grading_logic=record["grading_logic"],
                options=_options(record),
                concept_weights=weights,
                tags=record["tags"],
                source="import",
                external_id=record["external_id"],
                **record["metadata"],
            )
            entry["atom"] = str(atom.pk)
            return
        atom = LearningAtom.objects.get(pk=entry["atom"])
        atom_update(
            atom=atom,
            by=by,
            source="import",
            record=False,
            options=_options(record),
            title=record["title"],
            content=record["content"],
            grading_logic=record["grading_logic"],
            **record["metadata"],
        )
        atom_concept_weights_set(atom=atom, weights=weights)
        atom_tags_set(atom=atom, names=record["tags"])
        atom_edit_recorded(atom=atom, by=by, source="import", message="Updated by import")
        audit_record(
            actor=by,
            source="import",
            action="import_update",
            target=atom,
            details={"changes": entry["changes"][:50]},
        )
