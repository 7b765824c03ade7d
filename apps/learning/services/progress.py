"""Reset and restore: progress is set aside (marked archived_in a snapshot), never deleted."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from apps.core.services import audit_record
from apps.scheduler.models import LearnerAtomState, LearnerConceptState

from ..models import Attempt, Mistake, ProgressSnapshot, StudySession, XPEvent
from .locks import learner_write_lock
from .rollups import learner_rollups_rebuild

_ARCHIVABLE = (Attempt, StudySession, XPEvent, Mistake, LearnerAtomState, LearnerConceptState)


def progress_reset(*, learner) -> ProgressSnapshot:
    """Start the learner afresh; everything so far goes into a restorable snapshot."""
    with transaction.atomic():
        learner_write_lock(learner.pk)  # before any row lock, as the attempt service does
        snapshot = ProgressSnapshot.objects.create(learner=learner)
        live = {
            model: model.objects.filter(learner=learner, archived_in__isnull=True)
            for model in _ARCHIVABLE
        }
        snapshot.attempt_count = live[Attempt].count()
        snapshot.session_count = live[StudySession].count()
        snapshot.xp_total = live[XPEvent].aggregate(total=Sum("amount"))["total"] or 0
        snapshot.save(update_fields=["attempt_count", "session_count", "xp_total"])
        for queryset in live.values():
            queryset.update(archived_in=snapshot)
        learner_rollups_rebuild(learner_ids=[learner.pk])  # nothing live is left
        audit_record(actor=learner, source="api", action="progress_reset", target=learner,
                     details={"snapshot": str(snapshot.pk)})  # fmt: skip
    return snapshot


def progress_restore(*, snapshot: ProgressSnapshot, by) -> ProgressSnapshot:
    """Bring a reset's progress back. Progress made since the reset is kept too; the learner's
    scheduler state is rebuilt from the combined attempt log."""
    from apps.scheduler.services import atom_state_rebuild

    if snapshot.restored_at is not None:
        raise ValidationError("This snapshot has already been restored.")
    learner = snapshot.learner
    with transaction.atomic():
        learner_write_lock(learner.pk)  # before any row lock, as the attempt service does
        for model in (Attempt, StudySession, XPEvent, Mistake):
            model.objects.filter(archived_in=snapshot).update(archived_in=None)
        # States are derived data: drop both sets and replay the combined log.
        atom_ids = set(
            LearnerAtomState.objects.filter(learner=learner)
            .filter(archived_in__isnull=True)
            .values_list("atom_id", flat=True)
        ) | set(
            LearnerAtomState.objects.filter(archived_in=snapshot).values_list("atom_id", flat=True)
        )
        LearnerAtomState.objects.filter(archived_in=snapshot).delete()
        # Concept knowledge: the snapshot's estimate returns where nothing newer exists.
        live_concepts = LearnerConceptState.objects.filter(
            learner=learner, archived_in__isnull=True
        ).values_list("concept_id", flat=True)
        LearnerConceptState.objects.filter(archived_in=snapshot).exclude(
            concept_id__in=list(live_concepts)
        ).update(archived_in=None)
        LearnerConceptState.objects.filter(archived_in=snapshot).delete()
        for atom_id in atom_ids:
            atom_state_rebuild(learner=learner, atom_id=atom_id)
        learner_rollups_rebuild(learner_ids=[learner.pk])
        snapshot.restored_at, snapshot.restored_by = timezone.now(), by
        snapshot.save(update_fields=["restored_at", "restored_by"])
        audit_record(actor=by, source="admin", action="progress_restore", target=learner,
                     details={"snapshot": str(snapshot.pk)})  # fmt: skip
    return snapshot
