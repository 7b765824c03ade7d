"""Reconciliation figures: the latest finished run's differences per entity, and the drill-down."""

from datetime import datetime

from django.db.models import Count, Q, QuerySet

from ..models import ReconciliationDifference, ReconciliationRun


def reconciliation_latest() -> ReconciliationRun | None:
    """The newest reconciliation that finished (clean, with differences or failed). A run still
    in progress has counted only part of its differences, so it is not the latest verdict."""
    return ReconciliationRun.objects.filter(finished_at__isnull=False).first()


def reconciliation_summary(*, now: datetime) -> dict:
    """The latest finished run with its differences per entity, and the run in progress, if
    one is newer than it."""
    newest = ReconciliationRun.objects.values("id", "started_at", "finished_at").first()
    in_progress = newest if newest and newest["finished_at"] is None else None
    last = reconciliation_latest()
    if last is None:
        return {"last_run": None, "in_progress": in_progress}
    per_entity = (
        ReconciliationDifference.objects.filter(run=last)
        .values("entity")
        .annotate(
            unexplained=Count("id", filter=Q(explained=False)),
            explained=Count("id", filter=Q(explained=True)),
            repaired=Count("id", filter=Q(repaired=True)),
        )
        .order_by("entity")
    )
    return {
        "last_run": {
            "id": last.pk,
            "status": last.status,
            "status_label": last.get_status_display(),
            "started_at": last.started_at,
            "finished_at": last.finished_at,
            "differences": last.differences,
            "explained": last.explained,
            "repaired": last.repaired,
            "failure": last.failure,
            "entities": list(per_entity),
        },
        "in_progress": in_progress,
    }


def reconciliation_differences(
    *, run: ReconciliationRun, entity: str = "", explained: bool | None = None
) -> QuerySet[ReconciliationDifference]:
    """A run's differences, optionally of one entity and explained or not, in key order."""
    differences = ReconciliationDifference.objects.filter(run=run)
    if entity:
        differences = differences.filter(entity=entity)
    if explained is not None:
        differences = differences.filter(explained=explained)
    return differences.order_by("entity", "legacy_key", "id")


def reconciliation_entities(*, run: ReconciliationRun) -> list[str]:
    """The entities a run found differences in (the drill-down's filter choices)."""
    return list(
        ReconciliationDifference.objects.filter(run=run)
        .order_by("entity")
        .values_list("entity", flat=True)
        .distinct()
    )
