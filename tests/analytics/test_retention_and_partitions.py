"""Retention drops whole old months only, never the current one; on PostgreSQL events land in
their month's partition and an expired month's partition is dropped."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection

from apps.analytics.models import AnalyticsEvent
from apps.analytics.partitions import EVENTS
from apps.analytics.retention import events_purge
from apps.analytics.schema import EventKind, event_payload
from apps.analytics.tasks import partitions_ensure_task

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.postgresql

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def record(at: datetime) -> AnalyticsEvent:
    version, payload = event_payload(EventKind.BADGE_EARNED, {"badge": "b", "rule": "xp_total"})
    return AnalyticsEvent.objects.create(
        kind=EventKind.BADGE_EARNED, schema_version=version, occurred_at=at, payload=payload
    )


def months_left() -> list[str]:
    return sorted(
        {f"{e:%Y-%m}" for e in AnalyticsEvent.objects.values_list("occurred_at", flat=True)}
    )


def partition_of(event_id) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM analytics_analyticsevent WHERE id = %s",
            [event_id],
        )
        return cursor.fetchone()[0]


def test_retention_removes_the_months_wholly_past_it_and_keeps_the_rest():
    EVENTS.ensure(since=date(2026, 8, 1), through=date(2026, 12, 1))  # no-op on SQLite
    for at in ("2026-08-31T23:59:59", "2026-09-15T00:00:00", "2026-10-01T00:00:00",
               "2026-10-30T00:00:00", "2026-12-05T11:00:00"):  # fmt: skip
        record(datetime.fromisoformat(at).replace(tzinfo=UTC))

    # 40 days before 5 December is 26 October: October is not wholly past it, September is
    result = events_purge(days=40, now=NOW)

    assert result.before == date(2026, 10, 1)
    assert months_left() == ["2026-10", "2026-12"]
    again = events_purge(days=40, now=NOW)  # idempotent
    assert (again.partitions_dropped, again.rows_deleted) == ([], 0)


def test_retention_never_removes_the_current_month():
    record(datetime(2026, 12, 1, 0, 30, tzinfo=UTC))
    record(datetime(2026, 11, 30, 23, 0, tzinfo=UTC))

    events_purge(days=1, now=datetime(2026, 12, 1, 1, 0, tzinfo=UTC))

    assert months_left() == ["2026-11", "2026-12"]


def test_a_retention_under_a_day_is_refused():
    with pytest.raises(ValueError, match="at least one day"):
        events_purge(days=0, now=NOW)


def test_the_purge_command_uses_the_setting(settings, capsys):
    settings.ANALYTICS_RETENTION_DAYS = 30
    record(datetime.now(UTC) - timedelta(days=200))
    record(datetime.now(UTC))

    call_command("analytics_events_purge")

    assert AnalyticsEvent.objects.count() == 1
    assert "removed" in capsys.readouterr().out


@on_postgresql
def test_events_land_in_their_months_partition_and_old_months_are_dropped():
    assert EVENTS.partitioned()
    EVENTS.ensure(since=date(2026, 9, 1), through=date(2026, 10, 1))
    september = record(datetime(2026, 9, 30, 23, 59, tzinfo=UTC))
    october = record(datetime(2026, 10, 1, 0, 0, tzinfo=UTC))
    stray = record(datetime(1999, 1, 1, tzinfo=UTC))  # no month of its own: the default

    assert partition_of(september.pk) == EVENTS.partition_name(date(2026, 9, 1))
    assert partition_of(october.pk) == EVENTS.partition_name(date(2026, 10, 1))
    assert partition_of(stray.pk) == EVENTS.default_partition

    result = events_purge(days=40, now=NOW)

    assert EVENTS.partition_name(date(2026, 9, 1)) in result.partitions_dropped
    assert EVENTS.partition_name(date(2026, 10, 1)) not in result.partitions_dropped
    assert result.rows_deleted == 1  # the default partition's stray row
    assert list(AnalyticsEvent.objects.values_list("pk", flat=True)) == [october.pk]
    months = [p.month for p in EVENTS.partitions() if p.month]
    assert date(2026, 9, 1) not in months and date(2026, 12, 1) in months


@on_postgresql
def test_the_beat_task_keeps_the_coming_months_ready():
    this_month = date.today().replace(day=1)

    partitions_ensure_task()

    months = [p.month for p in EVENTS.partitions() if p.month]
    assert this_month in months and len([m for m in months if m > this_month]) >= 3
    assert EVENTS.partitions()[-1].name == EVENTS.default_partition
