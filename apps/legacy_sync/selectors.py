"""Reads of the migration's state: conservation per entity and the ``legacy_status`` figures."""

from datetime import datetime

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from .backfill.registry import entities_build
from .backfill.runner import rows_seen
from .models import BackfillRun, OutboxEntry, OutboxStatus, QuarantinedRow, ReconciliationRun


def legacy_json_dir() -> str:
    """Where v1's JSON progress files are counted: the folder the latest backfill read, else
    settings.LEGACY_JSON_DIR (where admin-started backfills read them)."""
    read = BackfillRun.objects.exclude(json_dir="").values_list("json_dir", flat=True).first()
    return read or str(settings.LEGACY_JSON_DIR)


def conservation_report(*, json_dir=None) -> list[dict]:
    """Per entity: legacy, migrated, quarantined, pending, and whether
    ``legacy == migrated + quarantined`` holds. v1's JSON files are counted in ``json_dir``,
    by default where the latest backfill read them (``legacy_json_dir``)."""
    json_dir = json_dir or legacy_json_dir()
    quarantined = dict(
        QuarantinedRow.objects.values("entity").annotate(n=Count("id")).values_list("entity", "n")
    )
    report = []
    for name, entity in entities_build(json_dir=json_dir).items():
        legacy, migrated = entity.legacy_count(), entity.migrated_count()
        held = quarantined.get(name, 0)
        report.append(
            {
                "entity": name,
                "legacy": legacy,
                "migrated": migrated,
                "quarantined": held,
                "pending": max(0, legacy - migrated - held),
                "seen": rows_seen(name),
                "holds": legacy == migrated + held,
            }
        )
    return report


def outbox_backlog(*, now: datetime | None = None) -> dict:
    """What the outbox still owes v1: pending entries, the oldest one's age in seconds (0.0
    when none is pending) and the dead entries (retries exhausted) that need staff."""
    now = now or timezone.now()
    pending = OutboxEntry.objects.filter(status=OutboxStatus.PENDING)
    # The lowest pending id is the oldest entry (ids follow creation), and the partial
    # (status, id) index finds it in one probe however large the backlog grows; Min(created_at)
    # would read every pending row.
    oldest = pending.order_by("id").values_list("created_at", flat=True).first()
    # Clamped at 0: the writing server's clock may run a little ahead of this one's.
    age_s = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    return {
        "pending": pending.count(),
        "oldest_pending_age_s": round(age_s, 1),
        "dead": OutboxEntry.objects.filter(status=OutboxStatus.DEAD).count(),
    }


def reconciliation_latest() -> ReconciliationRun | None:
    """The newest reconciliation that finished (clean, with differences or failed). A run still
    in progress has counted only part of its differences, so it is not the latest verdict."""
    return ReconciliationRun.objects.filter(finished_at__isnull=False).first()


def legacy_status(*, json_dir=None) -> dict:
    """The ``legacy_status --json`` contract: conservation per entity, the outbox backlog, and
    the latest finished reconciliation (``run_at`` = when it finished, ``differences`` = its
    unexplained differences), plus the JSON folder counted (``json_dir``)."""
    json_dir = str(json_dir or legacy_json_dir())
    entities = {
        row["entity"]: {k: row[k] for k in ("legacy", "migrated", "quarantined", "pending")}
        for row in conservation_report(json_dir=json_dir)
    }
    last_run = reconciliation_latest()
    return {
        "entities": entities,
        "outbox": outbox_backlog(),
        "reconciliation": {
            "run_at": last_run.finished_at.isoformat() if last_run else None,
            "differences": last_run.differences if last_run else 0,
        },
        "json_dir": json_dir,
        "generated_at": timezone.now().isoformat(),
    }
