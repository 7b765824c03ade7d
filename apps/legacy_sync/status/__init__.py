"""The figures of the staff migration status pages (/staff/migration/) and of
``legacy_status``. Reads only.

``migration_status()`` gathers every section, for the page and ``status.json``;
``status_section()`` computes one, for the htmx fragment that refreshes it. Each section is a
few aggregate queries whose cost does not grow with the page's audience: no per-row queries.
The sections are in backfill.py, live_sync.py and reconcile.py; the phase is here.
"""

from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from ..models import ReadSource, SyncFlags
from .backfill import (
    backfill_finished,
    backfill_progress,
    conservation_report,
    legacy_json_dir,
    quarantine_by_reason,
)
from .live_sync import (
    cohort_engagement,
    current_flags,
    flags_summary,
    outbox_backlog,
    outbox_lag,
    percentile,
    shadow_parity,
    throughput_series,
)
from .reconcile import (
    reconciliation_differences,
    reconciliation_entities,
    reconciliation_latest,
    reconciliation_summary,
)

__all__ = [
    "SECTIONS", "backfill_finished", "conservation_report", "legacy_status", "migration_phase",
    "migration_status", "outbox_backlog", "percentile", "reconciliation_differences",
    "reconciliation_entities", "reconciliation_latest", "status_section",
]  # fmt: skip


def migration_phase(*, flags: SyncFlags, finished: bool) -> dict:
    """Which phase the flags and the backfill put the migration in, as a code and a label."""
    rollout = flags.adaptive_rollout_percent
    if not finished:
        return {"code": "backfill", "label": "Phase 1: backfill"}
    if flags.read_source == ReadSource.V2 and rollout == 100:
        return {"code": "cut_over", "label": "Cut over"}
    if rollout > 0:
        return {"code": "adaptive_rollout", "label": f"Phase 3: adaptive rollout {rollout}%"}
    if flags.dual_write:
        return {"code": "dual_write", "label": "Phase 2: dual-write"}
    return {"code": "backfilled", "label": "Backfill finished; dual-write is off"}


def phase_summary(*, now: datetime) -> dict:
    flags = current_flags()
    finished = backfill_finished()
    return {
        **migration_phase(flags=flags, finished=finished),
        "backfill_finished": finished,
        "kill_switch": flags.kill_switch,
        "as_of": now,
    }


# Every section takes the same keyword, ``now``, so that one page is one moment; those whose
# figures do not depend on the clock ignore it.
SECTIONS: dict[str, Callable[..., dict]] = {
    "phase": phase_summary,
    "flags": flags_summary,
    "backfill": backfill_progress,
    "outbox": outbox_lag,
    "reconciliation": reconciliation_summary,
    "shadow_reads": shadow_parity,
    "quarantine": quarantine_by_reason,
    "cohorts": cohort_engagement,
    "throughput": throughput_series,
}


def status_section(name: str, *, now: datetime | None = None) -> dict:
    """One section's figures; ``name`` must be one of SECTIONS (KeyError otherwise)."""
    return SECTIONS[name](now=now or timezone.now())


def migration_status(*, now: datetime | None = None) -> dict:
    """Every section, all as of the same moment: the page and status.json."""
    now = now or timezone.now()
    return {"generated_at": now, **{name: section(now=now) for name, section in SECTIONS.items()}}


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
