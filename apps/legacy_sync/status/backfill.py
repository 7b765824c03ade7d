"""Backfill figures: conservation per entity, progress of the newest run, the quarantine."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q

from ..backfill.registry import entities_build
from ..backfill.runner import STAGES, rows_seen
from ..models import BackfillCheckpoint, BackfillRun, BackfillStatus, QuarantinedRow


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


def backfill_finished() -> bool:
    """Every backfill stage has run to its end (all its checkpoints finished) and no run is
    under way. Only the newest run counts: a killed run stays "running" forever."""
    latest = BackfillRun.objects.values_list("status", flat=True).first()
    if latest is None or latest == BackfillStatus.RUNNING:
        return False
    unfinished = dict(
        BackfillCheckpoint.objects.values("entity")
        .annotate(unfinished=Count("id", filter=Q(finished=False)))
        .values_list("entity", "unfinished")
    )
    return all(unfinished.get(stage) == 0 for stage in STAGES)


def backfill_progress(*, now: datetime) -> dict:
    """Per entity: conservation counts with percentages for the progress bars and, while a
    run is at that entity, its throughput and ETA. Also the newest run, stage by stage."""
    run = BackfillRun.objects.first()
    stages = _run_stages(run, now=now) if run else []
    active = {s["stage"]: s for s in stages if s["state"] == "running"}
    entities = []
    for row in conservation_report():
        stage = active.get(row["entity"], {})
        entities.append(
            {
                **row,
                **_bar_percents(row["migrated"], row["quarantined"], row["legacy"]),
                "rate": stage.get("rate"),
                "eta_s": stage.get("eta_s"),
                "eta_at": stage.get("eta_at"),
            }
        )
    summary = None
    if run:
        summary = {
            "id": run.pk,
            "status": run.status,
            "mode": run.mode,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "failure": run.failure,
            "current": next(iter(active), None),
            "stages": stages,
        }
    return {"finished": backfill_finished(), "run": summary, "entities": entities}


def _run_stages(run: BackfillRun, *, now: datetime) -> list[dict]:
    """The run's stages in its order, from its progress JSON (apps/legacy_sync/backfill/
    runner.py: legacy, seen, rate, started_at, finished_at per stage started so far)."""
    stages = []
    for name in run.entities:
        entry = run.progress.get(name)
        if entry is None:
            stages.append({"stage": name, "state": "waiting", "legacy": None, "seen": None,
                           "rate": None, "eta_s": None, "eta_at": None})  # fmt: skip
            continue
        done = entry.get("finished_at") is not None
        # A stage left unfinished by a failed or killed run is not moving: no ETA for it.
        moving = not done and run.status == BackfillStatus.RUNNING
        legacy, seen, rate = entry.get("legacy", 0), entry.get("seen", 0), entry.get("rate", 0)
        eta_s = round(max(0, legacy - seen) / rate) if moving and rate else None
        stages.append(
            {
                "stage": name,
                "state": "done" if done else ("running" if moving else "stopped"),
                "legacy": legacy,
                "seen": seen,
                "rate": rate,
                "eta_s": eta_s,
                "eta_at": now + timedelta(seconds=eta_s) if eta_s is not None else None,
            }
        )
    return stages


def _bar_percents(migrated: int, quarantined: int, legacy: int) -> dict:
    if legacy == 0:  # no bar to draw: there is nothing to migrate
        return {"percent_migrated": None, "percent_quarantined": None, "percent_done": None}
    migrated_pct = min(100.0, 100 * migrated / legacy)
    quarantined_pct = min(100.0 - migrated_pct, 100 * quarantined / legacy)
    return {
        "percent_migrated": round(migrated_pct, 1),
        "percent_quarantined": round(quarantined_pct, 1),
        "percent_done": round(migrated_pct + quarantined_pct, 1),
    }


def quarantine_by_reason(*, now: datetime) -> dict:
    rows = list(
        QuarantinedRow.objects.values("reason")
        .annotate(count=Count("id"))
        .order_by("-count", "reason")
    )
    return {"total": sum(row["count"] for row in rows), "by_reason": rows}
