"""Retention of the event log: ANALYTICS_RETENTION_DAYS, in whole months.

A month leaves once all of it is older than the retention: every month before the one the
cutoff (now minus the retention) falls in. On PostgreSQL its partition is dropped (a catalogue
change, no row-by-row delete, no bloat), and the default partition's rows from before that
month are deleted; on SQLite the same rows are deleted. The current month never leaves, so
at least the retention is always kept, and at most a month more.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.core.partitions import month_instant, month_start

from .models import AnalyticsEvent
from .partitions import EVENTS


@dataclass(frozen=True)
class PurgeResult:
    before: date  # every event of the months before this one is gone
    partitions_dropped: list[str]
    rows_deleted: int  # SQLite's rows; on PostgreSQL the default partition's (a dropped
    # partition's rows go without a scan, uncounted)


def events_purge(*, days: int | None = None, now: datetime | None = None) -> PurgeResult:
    """Remove the months wholly older than ``days`` (ANALYTICS_RETENTION_DAYS). The only
    door that removes events. Idempotent: a second run finds nothing to remove."""
    days = settings.ANALYTICS_RETENTION_DAYS if days is None else days
    if days < 1:
        raise ValueError(f"The retention must be at least one day, not {days}.")
    now = (now or timezone.now()).astimezone(UTC)
    before = min(month_start(now - timedelta(days=days)), month_start(now))
    if EVENTS.partitioned():
        dropped, deleted = EVENTS.drop_before(before)  # the dropped months' rows uncounted
        return PurgeResult(before, dropped, deleted)
    deleted, _ = AnalyticsEvent.objects.filter(occurred_at__lt=month_instant(before)).delete()
    return PurgeResult(before, [], deleted)
