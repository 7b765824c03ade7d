"""Immutable revisions: every save records one; revert makes a new one from an old one."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from apps.core.services import audit_record
from apps.curriculum.models import Concept

from ..models import AtomRevision, AtomStatus, LearningAtom
from ..selectors import atom_working_snapshot


def revision_record(*, atom: LearningAtom, by, source: str, message: str = "") -> AtomRevision:
    """Snapshot the working copy as the next revision number.

    Locks the atom row so concurrent saves get distinct, gap-free numbers.
    """
    with transaction.atomic():
        LearningAtom.objects.select_for_update().filter(pk=atom.pk).first()
        latest = atom.revisions.aggregate(n=Max("number"))["n"] or 0
        return AtomRevision.objects.create(
            atom=atom,
            number=latest + 1,
            snapshot=atom_working_snapshot(atom),
            source=source,
            message=message[:255],
            created_by=by if getattr(by, "pk", None) else None,
        )


def atom_edit_recorded(*, atom: LearningAtom, by, source: str, message: str = "") -> AtomRevision:
    """Call after any edit of the working copy (service or admin save).

    Records the revision and sends an approved or published atom back to draft: what learners
    see stays pinned to ``published_revision`` until the new draft is published.
    """
    with transaction.atomic():
        previous = atom.status
        if previous in (AtomStatus.IN_REVIEW, AtomStatus.APPROVED, AtomStatus.PUBLISHED):
            atom.status = AtomStatus.DRAFT
        atom.last_edited_by = by if getattr(by, "pk", None) else None
        LearningAtom.objects.filter(pk=atom.pk).update(
            status=atom.status, last_edited_by=atom.last_edited_by
        )
        revision = revision_record(atom=atom, by=by, source=source, message=message or "Edited")
        audit_record(
            actor=by,
            source=source,
            action="edit",
            target=atom,
            from_state=previous,
            to_state=atom.status,
            message=message,
            details={"revision": revision.number},
        )
    return revision


def atom_revert(*, atom: LearningAtom, revision: AtomRevision, by, source: str) -> AtomRevision:
    """Make ``revision``'s snapshot the working copy again, as a new draft revision.

    History is never rewritten: the reverted-to content gets a fresh revision number.
    """
    from .atoms import (
        ConceptWeightInput,
        atom_concept_weights_set,
        atom_tags_set,
        atom_update,
    )

    if revision.atom_id != atom.pk:
        raise ValidationError("That revision belongs to another atom.")
    snapshot = revision.snapshot
    concepts = {
        str(c.pk): c
        for c in Concept.objects.filter(pk__in=[link["concept"] for link in snapshot["concepts"]])
    }
    with transaction.atomic():
        atom_update(
            atom=atom,
            by=by,
            source=source,
            record=False,
            title=snapshot["title"],
            content=snapshot["content"],
            grading_logic=snapshot["grading_logic"],
            options=snapshot["options"],
            **snapshot["metadata"],
        )
        atom_concept_weights_set(
            atom=atom,
            weights=[
                ConceptWeightInput(concepts[link["concept"]], link["weight"])
                for link in snapshot["concepts"]
                if link["concept"] in concepts
            ],
        )
        atom_tags_set(atom=atom, names=snapshot["tags"])
        new_revision = atom_edit_recorded(
            atom=atom, by=by, source=source, message=f"Reverted to revision {revision.number}"
        )
        audit_record(
            actor=by,
            source=source,
            action="revert",
            target=atom,
            message=f"Reverted to revision {revision.number}",
            details={"from_revision": revision.number, "new_revision": new_revision.number},
        )
    return new_revision
