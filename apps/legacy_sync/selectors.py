"""Reads of the migration's state: conservation per entity and the ``legacy_status`` figures."""

from django.db.models import Count
from django.utils import timezone

from .backfill.registry import entities_build
from .backfill.runner import rows_seen
from .models import QuarantinedRow


def conservation_report(*, json_dir=None) -> list[dict]:
    """Per entity: legacy, migrated, quarantined, pending, and whether
    ``legacy == migrated + quarantined`` holds."""
    from django.conf import settings

    json_dir = json_dir or (settings.VAR_DIR / "legacy_json")
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


def legacy_status(*, json_dir=None) -> dict:
    """The ``legacy_status --json`` contract. The outbox and reconciliation parts report what
    exists today: no dual-write outbox and no reconciliation has run yet (issue 8)."""
    entities = {
        row["entity"]: {k: row[k] for k in ("legacy", "migrated", "quarantined", "pending")}
        for row in conservation_report(json_dir=json_dir)
    }
    return {
        "entities": entities,
        "outbox": {"pending": 0, "oldest_pending_age_s": 0.0, "dead": 0},
        "reconciliation": {"run_at": None, "differences": 0},
        "generated_at": timezone.now().isoformat(),
    }
