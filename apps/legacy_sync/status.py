"""The figures of the staff migration status pages (/staff/migration/). Reads only.

``migration_status()`` gathers every section, for the page and ``status.json``;
``status_section()`` computes one, for the htmx fragment that refreshes it. Each section is a
few aggregate queries whose cost does not grow with the page's audience: no per-row queries.
"""

import math
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import TruncMinute
from django.utils import timezone

from apps.core.models import Origin
from apps.learning.models import Attempt, StudySession

from .backfill.runner import STAGES
from .models import (
    BackfillCheckpoint,
    BackfillRun,
    BackfillStatus,
    Cohort,
    CohortAssignment,
    FlagChange,
    OutboxEntry,
    OutboxStatus,
    QuarantinedRow,
    ReadSource,
    ReconciliationDifference,
    ReconciliationRun,
    ShadowRead,
    SyncFlags,
)
from .selectors import conservation_report, outbox_backlog, reconciliation_latest

LAG_WINDOW = timedelta(minutes=5)
SHADOW_WINDOW = timedelta(hours=24)
COHORT_WINDOW = timedelta(days=30)
RETURN_WINDOW = (timedelta(days=1), timedelta(days=7))  # after the learner's first session
THROUGHPUT_MINUTES = 60
RECENT_MISMATCHES = 10
RECENT_FLAG_CHANGES = 5


# --- Phase and flags ---


def current_flags() -> SyncFlags:
    """The flags row, or the environment's defaults while it does not exist yet. Unlike
    flags.sync_flags() this never creates the row: the status pages only read."""
    return SyncFlags.objects.filter(pk=1).first() or SyncFlags(
        pk=1, **settings.LEGACY_SYNC_DEFAULTS
    )


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


def flags_summary(*, now: datetime) -> dict:
    flags = current_flags()
    changes = FlagChange.objects.values(
        "flag", "old_value", "new_value", "changed_at", changed_by_email=F("changed_by__email")
    )[:RECENT_FLAG_CHANGES]
    return {
        "dual_write": flags.dual_write,
        "read_source": flags.read_source,
        "adaptive_rollout_percent": flags.adaptive_rollout_percent,
        "shadow_read_percent": flags.shadow_read_percent,
        "kill_switch": flags.kill_switch,
        "updated_at": flags.updated_at,  # None until the row exists
        "recent_changes": list(changes),
    }


# --- Backfill ---


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


# --- Outbox ---


class _PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont: the value at ``fraction``, interpolated between ranks."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, *, fraction: float, **extra):
        super().__init__(
            expression, fraction=float(fraction), output_field=DurationField(), **extra
        )


def outbox_lag(*, now: datetime) -> dict:
    """The backlog (pending, oldest pending age, dead) and how long sent entries waited:
    p50 and p99 of ``sent_at - created_at`` over those sent in the last five minutes."""
    sent = OutboxEntry.objects.filter(status=OutboxStatus.SENT, sent_at__gte=now - LAG_WINDOW)
    count, p50, p99 = _lag_percentiles(sent)
    return {**outbox_backlog(now=now), "sent_last_5m": count, "lag_p50_s": p50, "lag_p99_s": p99}


def _lag_percentiles(sent: QuerySet) -> tuple[int, float | None, float | None]:
    lag = ExpressionWrapper(F("sent_at") - F("created_at"), output_field=DurationField())
    if connection.vendor == "postgresql":
        # Computed in the database: five busy minutes are too many rows to ship here.
        figures = sent.aggregate(
            n=Count("id"),
            p50=_PercentileCont(lag, fraction=0.5),
            p99=_PercentileCont(lag, fraction=0.99),
        )
        count, p50, p99 = figures["n"], figures["p50"], figures["p99"]
    else:  # the embedded SQLite has no percentile_cont; its volumes are small
        lags = sorted(sent.annotate(lag=lag).values_list("lag", flat=True))
        count = len(lags)
        p50, p99 = (percentile(lags, f) if lags else None for f in (0.5, 0.99))
    return count, *(round(p.total_seconds(), 3) if p is not None else None for p in (p50, p99))


def percentile(ordered: list, fraction: float):
    """percentile_cont's rule on a sorted, non-empty list: linear between the closest ranks."""
    rank = fraction * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- Reconciliation ---


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


# --- Shadow reads ---


def shadow_parity(*, now: datetime) -> dict:
    """The share of shadow reads whose v2 answer matched v1's, over 24 hours and overall
    (the cutover criterion), and the latest mismatches with the fields that differed."""
    recent = Q(compared_at__gte=now - SHADOW_WINDOW)
    # (The aliases must not be "matched": that is the field the filters name.)
    counts = ShadowRead.objects.aggregate(
        reads_all=Count("id"),
        matched_all=Count("id", filter=Q(matched=True)),
        reads_24h=Count("id", filter=recent),
        matched_24h=Count("id", filter=recent & Q(matched=True)),
    )
    mismatches = ShadowRead.objects.filter(matched=False).values(
        "id", "learner_id", "read", "compared_at", "differing_fields",
        learner_email=F("learner__email"),
    )[:RECENT_MISMATCHES]  # fmt: skip
    return {
        "last_24h": _parity(counts["reads_24h"], counts["matched_24h"]),
        "overall": _parity(counts["reads_all"], counts["matched_all"]),
        "recent_mismatches": list(mismatches),
    }


def _parity(reads: int, matched: int) -> dict:
    return {"reads": reads, "matched": matched, "matched_percent": _percent(matched, reads)}


# --- Quarantine ---


def quarantine_by_reason(*, now: datetime) -> dict:
    rows = list(
        QuarantinedRow.objects.values("reason")
        .annotate(count=Count("id"))
        .order_by("-count", "reason")
    )
    return {"total": sum(row["count"] for row in rows), "by_reason": rows}


# --- Cohorts ---


def cohort_engagement(*, now: datetime) -> dict:
    """v1 and adaptive cohorts over the last 30 days: session completion, 7-day return and
    accuracy, with learner counts. A learner counts in the cohort they are assigned to now.

    The return rate is the share of learners active in the window who had a session 1 to 7
    days after their first session in it.
    """
    since = now - COHORT_WINDOW
    in_window = Q(started_at__gte=since, started_at__lte=now)
    first_session = (
        StudySession.objects.filter(in_window, learner=OuterRef("learner_id"))
        .order_by("started_at")
        .values("started_at")[:1]
    )
    came_back = StudySession.objects.filter(
        learner=OuterRef("learner_id"),
        started_at__gte=OuterRef("first_at") + RETURN_WINDOW[0],
        started_at__lte=OuterRef("first_at") + RETURN_WINDOW[1],
    )
    # One row per assignment, each probing the learner's (learner, started_at) index.
    learners = (
        CohortAssignment.objects.annotate(first_at=Subquery(first_session))
        .annotate(came_back=Exists(came_back))
        .values("cohort")
        .annotate(
            learners=Count("id"),
            active=Count("id", filter=Q(first_at__isnull=False)),
            returned=Count("id", filter=Q(first_at__isnull=False, came_back=True)),
        )
        .order_by()
    )
    cohort = F("learner__cohort_assignment__cohort")
    sessions = (
        StudySession.objects.filter(in_window, learner__cohort_assignment__isnull=False)
        .values(cohort_name=cohort)
        .annotate(n=Count("id"), completed=Count("id", filter=Q(completed_at__isnull=False)))
        .order_by()
    )
    attempts = (
        Attempt.objects.filter(
            answered_at__gte=since, answered_at__lte=now, learner__cohort_assignment__isnull=False
        )
        .values(cohort_name=cohort)
        .annotate(n=Count("id"), correct=Count("id", filter=Q(correct=True)))
        .order_by()
    )
    by_learners = {row["cohort"]: row for row in learners}
    by_sessions = {row["cohort_name"]: row for row in sessions}
    by_attempts = {row["cohort_name"]: row for row in attempts}
    cohorts = []
    for name, label in Cohort.choices:
        people = by_learners.get(name, {"learners": 0, "active": 0, "returned": 0})
        held = by_sessions.get(name, {"n": 0, "completed": 0})
        answered = by_attempts.get(name, {"n": 0, "correct": 0})
        cohorts.append(
            {
                "cohort": name,
                "label": label,
                "learners": people["learners"],
                "active_learners": people["active"],
                "returned_learners": people["returned"],
                "return_percent_7d": _percent(people["returned"], people["active"]),
                "sessions": held["n"],
                "completed_sessions": held["completed"],
                "completion_percent": _percent(held["completed"], held["n"]),
                "attempts": answered["n"],
                "correct_attempts": answered["correct"],
                "accuracy_percent": _percent(answered["correct"], answered["n"]),
            }
        )
    return {"window_days": COHORT_WINDOW.days, "since": since, "cohorts": cohorts}


# --- Throughput ---


def throughput_series(*, now: datetime) -> dict:
    """Per minute over the last hour: outbox entries sent to v1, attempts that came from v1
    (origin "legacy": pulled or backfilled) and attempts written in v2."""
    end = now.replace(second=0, microsecond=0)
    minutes = [end - timedelta(minutes=n) for n in range(THROUGHPUT_MINUTES - 1, -1, -1)]
    start = minutes[0]
    sent = dict(
        OutboxEntry.objects.filter(sent_at__gte=start)
        .annotate(minute=TruncMinute("sent_at"))
        .values("minute")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("minute", "n")
    )
    created = {
        (row["minute"], row["origin"]): row["n"]
        for row in Attempt.objects.filter(created_at__gte=start)
        .annotate(minute=TruncMinute("created_at"))
        .values("minute", "origin")
        .annotate(n=Count("id"))
        .order_by()
    }
    per_minute = [
        {
            "minute": minute,
            "outbox_sent": sent.get(minute, 0),
            "v1_rows_pulled": created.get((minute, Origin.LEGACY), 0),
            "v2_attempts": created.get((minute, Origin.V2), 0),
        }
        for minute in minutes
    ]
    return {"minutes": THROUGHPUT_MINUTES, "per_minute": per_minute}


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


# --- Everything ---

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
