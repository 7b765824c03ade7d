"""The review workflow: draft → in_review → approved → published → archived.

Each transition is a service that checks the caller's permission on the server, so the admin
and the API share one set of rules. Illegal transitions raise ``IllegalTransition`` (409 in
the API); missing permissions raise ``PermissionDenied`` (403).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.cache_versions import cache_version_bump
from apps.core.errors import DomainConflict
from apps.core.models import Origin
from apps.core.services import audit_record
from apps.core.sync_port import rows_changed

from ..models import (
    AtomEditLock,
    AtomRevision,
    AtomStatus,
    LearningAtom,
    ReviewComment,
)

EDIT_LOCK_MINUTES = 30


class IllegalTransition(DomainConflict):
    """The atom is not in a state this action can leave from."""

    code = "illegal_transition"

    def __init__(self, message: str, *, action: str, status: str):
        super().__init__(message)
        self.action, self.status = action, status

    def details(self) -> dict:
        return {"action": self.action, "status": self.status}


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    permission: str
    label: str


TRANSITIONS = {
    t.action: t
    for t in (
        Transition("submit", ("draft",), "in_review", "content.submit_atom", "Submit for review"),
        Transition("approve", ("in_review",), "approved", "content.review_atom", "Approve"),
        Transition(
            "request_changes", ("in_review",), "draft", "content.review_atom", "Request changes"
        ),
        Transition("publish", ("approved",), "published", "content.publish_atom", "Publish"),
        Transition(
            "archive",
            ("draft", "in_review", "approved", "published"),
            "archived",
            "content.publish_atom",
            "Archive",
        ),
        Transition("restore", ("archived",), "draft", "content.publish_atom", "Restore to draft"),
    )
}


def available_transitions(*, atom: LearningAtom, user) -> list[Transition]:
    """The actions ``user`` may take on ``atom`` now (for buttons; services re-check)."""
    return [
        t
        for t in TRANSITIONS.values()
        if atom.status in t.sources
        and user.has_perm(t.permission)
        and not (t.action in ("approve", "request_changes") and _is_own(atom, user))
    ]


def _is_own(atom: LearningAtom, user) -> bool:
    return user.pk is not None and user.pk in (atom.created_by_id, atom.last_edited_by_id)


def atom_transition(
    *, atom: LearningAtom, action: str, by, source: str, comment: str = ""
) -> LearningAtom:
    """Move ``atom`` along the workflow. ``by`` is None only for the scheduler.

    Locks the atom row, so two concurrent transitions cannot both start from the same state.
    """
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise IllegalTransition(
            f"Unknown action {action!r}; known: {', '.join(TRANSITIONS)}.",
            action=action,
            status=atom.status,
        )
    if by is not None and not by.has_perm(transition.permission):
        raise PermissionDenied(f"You do not have permission to {transition.label.lower()}.")
    if action in ("approve", "request_changes") and by is not None and _is_own(atom, by):
        raise PermissionDenied("Reviewers cannot review atoms they wrote or last edited.")
    with transaction.atomic():
        locked = LearningAtom.objects.select_for_update().get(pk=atom.pk)
        if locked.status not in transition.sources:
            raise IllegalTransition(
                f"Cannot {transition.label.lower()} an atom that is {locked.status}; "
                f"allowed from {', '.join(transition.sources)}.",
                action=action,
                status=locked.status,
            )
        if action == "request_changes" and not comment.strip():
            raise ValidationError({"comment": ["Say what needs to change."]})
        previous = locked.status
        locked.status = transition.target
        fields = ["status", "updated_at"]
        if action == "publish":
            live_revision_pin(atom=locked, revision=locked.revisions.order_by("-number").first())
            locked.publish_at = None
            fields.append("publish_at")
        if action == "archive":
            # Off the air for good: a restored atom stays invisible until published again.
            live_revision_pin(atom=locked, revision=None)
            locked.publish_at = locked.expire_at = None
            fields += ["publish_at", "expire_at"]
        locked.save(update_fields=fields)
        if action == "request_changes":
            ReviewComment.objects.create(
                atom=locked,
                revision=locked.revisions.order_by("-number").first(),
                author=by,
                body=comment,
                is_change_request=True,
            )
        audit_record(
            actor=by,
            source=source,
            action=action,
            target=locked,
            from_state=previous,
            to_state=locked.status,
            message=comment,
            details=(
                {"published_revision": locked.published_revision.number}
                if action == "publish"
                else {}
            ),
        )
    atom.refresh_from_db()
    return atom


def live_revision_pin(*, atom: LearningAtom, revision: AtomRevision | None) -> None:
    """Make ``revision`` what learners see (None: nothing), with its concept links.

    Precondition: the caller holds the atom's row lock inside a transaction.
    """
    atom.published_revision = revision
    atom.published_at = timezone.now() if revision else None
    atom.save(update_fields=["published_revision", "published_at"])
    concept_ids = [link["concept"] for link in revision.snapshot["concepts"]] if revision else []
    atom.live_concepts.set(concept_ids)
    cache_version_bump("scheduler.course_candidates")  # what next items offers has changed
    if revision and atom.origin == Origin.V2:  # v1 gets v2's cards (its own come from there)
        rows_changed(entity="flashcards", ids=[atom.pk])


def atom_schedule(
    *,
    atom: LearningAtom,
    by,
    source: str,
    publish_at: datetime | None = None,
    expire_at: datetime | None = None,
) -> LearningAtom:
    """Set when an approved atom goes live and when a live atom is archived (publishers).

    An atom scheduled to publish is locked against edits until then.
    """
    if not by.has_perm("content.publish_atom"):
        raise PermissionDenied("Only publishers schedule publication.")
    if publish_at and atom.status != AtomStatus.APPROVED:
        raise IllegalTransition(
            f"Only approved atoms can be scheduled to publish; this one is {atom.status}.",
            action="schedule",
            status=atom.status,
        )
    if publish_at and expire_at and expire_at <= publish_at:
        raise ValidationError({"expire_at": ["Must be after the publication time."]})
    with transaction.atomic():
        atom.publish_at, atom.expire_at = publish_at, expire_at
        atom.save(update_fields=["publish_at", "expire_at", "updated_at"])
        audit_record(
            actor=by,
            source=source,
            action="schedule",
            target=atom,
            details={
                "publish_at": publish_at.isoformat() if publish_at else None,
                "expire_at": expire_at.isoformat() if expire_at else None,
            },
        )
    return atom


def atoms_publish_scheduled(*, now: datetime | None = None) -> tuple[int, int]:
    """Publish approved atoms whose time has come and archive expired ones.

    Idempotent: run it as often as you like (beat runs it every minute).
    Returns (published, archived).
    """
    now = now or timezone.now()
    published = archived = 0
    due = LearningAtom.objects.filter(status=AtomStatus.APPROVED, publish_at__lte=now)
    for atom in due.order_by("pk"):
        try:
            atom_transition(atom=atom, action="publish", by=None, source="schedule")
            published += 1
        except IllegalTransition:
            continue  # changed state since the query; the next run sees it fresh
    expired = LearningAtom.objects.filter(expire_at__lte=now).exclude(status=AtomStatus.ARCHIVED)
    for atom in expired.order_by("pk"):
        try:
            atom_transition(atom=atom, action="archive", by=None, source="schedule")
            archived += 1
        except IllegalTransition:
            continue
    return published, archived


# --- edit locks --------------------------------------------------------------------------
def atom_edit_guard(*, atom: LearningAtom, by) -> None:
    """Raise ValidationError if ``by`` may not edit ``atom`` right now (someone else's lock,
    scheduled publication, archived)."""
    if atom._state.adding:
        return
    if atom.status == AtomStatus.ARCHIVED:
        raise ValidationError("Archived atoms cannot be edited; restore it to draft first.")
    if atom.status == AtomStatus.APPROVED and atom.publish_at:
        raise ValidationError(
            f"Scheduled to publish at {atom.publish_at:%Y-%m-%d %H:%M} UTC; "
            "unschedule it before editing."
        )
    lock = atom_lock_holder(atom=atom)
    if lock is not None and (by is None or lock.held_by_id != by.pk):
        raise ValidationError(
            f"{lock.held_by} is editing this atom (locked until {lock.expires_at:%H:%M} UTC)."
        )


def atom_lock_holder(*, atom: LearningAtom) -> AtomEditLock | None:
    lock = AtomEditLock.objects.select_related("held_by").filter(atom=atom).first()
    return lock if lock and lock.expires_at > timezone.now() else None


def atom_lock_acquire(*, atom: LearningAtom, by, minutes: int = EDIT_LOCK_MINUTES) -> AtomEditLock:
    """Claim the atom for editing; extends your own lock, refuses someone else's."""
    with transaction.atomic():
        LearningAtom.objects.select_for_update().filter(pk=atom.pk).first()
        holder = atom_lock_holder(atom=atom)
        if holder and holder.held_by_id != by.pk:
            raise ValidationError(f"{holder.held_by} already holds the lock.")
        now = timezone.now()
        lock, _ = AtomEditLock.objects.update_or_create(
            atom=atom,
            defaults={
                "held_by": by,
                "acquired_at": now,
                "expires_at": now + timedelta(minutes=minutes),
            },
        )
        audit_record(actor=by, source="admin", action="lock", target=atom)
    return lock


def atom_lock_release(*, atom: LearningAtom, by) -> None:
    """Release your lock (publishers may break anyone's)."""
    holder = atom_lock_holder(atom=atom)
    if holder is None:
        AtomEditLock.objects.filter(atom=atom).delete()  # an expired lock
        return
    if holder.held_by_id != by.pk and not by.has_perm("content.publish_atom"):
        raise PermissionDenied(f"Only {holder.held_by} or a publisher can release this lock.")
    with transaction.atomic():
        holder.delete()
        audit_record(actor=by, source="admin", action="unlock", target=atom)


# --- review comments -----------------------------------------------------------------------
def review_comment_add(
    *,
    atom: LearningAtom,
    by,
    body: str,
    field_path: str = "",
    parent: ReviewComment | None = None,
) -> ReviewComment:
    if not body.strip():
        raise ValidationError({"body": ["A comment needs some text."]})
    if parent is not None and parent.atom_id != atom.pk:
        raise ValidationError({"parent": ["Replies must be on the same atom."]})
    revision: AtomRevision | None = atom.revisions.order_by("-number").first()
    return ReviewComment.objects.create(
        atom=atom,
        revision=revision,
        parent=parent,
        author=by,
        field_path=field_path,
        body=body,
    )


def review_comment_resolve(*, comment: ReviewComment, by) -> ReviewComment:
    if comment.resolved_at is None:
        comment.resolved_at, comment.resolved_by = timezone.now(), by
        comment.save(update_fields=["resolved_at", "resolved_by"])
    return comment
