"""Live sync figures: flags, the outbox's backlog and lag, shadow-read parity, cohort
engagement and throughput."""

import math
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

from ..models import (
    Cohort,
    CohortAssignment,
    FlagChange,
    OutboxEntry,
    OutboxStatus,
    ShadowRead,
    SyncFlags,
)

LAG_WINDOW = timedelta(minutes=5)
SHADOW_WINDOW = timedelta(hours=24)
COHORT_WINDOW = timedelta(days=30)
RETURN_WINDOW = (timedelta(days=1), timedelta(days=7))  # after the learner's first session
THROUGHPUT_MINUTES = 60
RECENT_MISMATCHES = 10
RECENT_FLAG_CHANGES = 5


def current_flags() -> SyncFlags:
    """The flags row, or the environment's defaults while it does not exist yet. Unlike
    flags.sync_flags() this never creates the row: the status pages only read."""
    return SyncFlags.objects.filter(pk=1).first() or SyncFlags(
        pk=1, **settings.LEGACY_SYNC_DEFAULTS
    )


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
