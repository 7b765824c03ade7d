"""The event log's periodic work (beat entries in config/settings/base.py)."""

from celery import shared_task
from django.conf import settings

from apps.core.dispatch import RETRY_ON_TRANSIENT


@shared_task(name="analytics.partitions_ensure", **RETRY_ON_TRANSIENT)
def partitions_ensure_task(**kwargs) -> list[str]:
    """Keep this month's and the coming months' event partitions ready (PostgreSQL; a no-op
    elsewhere). Idempotent: a redelivery finds them made."""
    from .partitions import EVENTS

    return EVENTS.ensure_ahead(months=settings.ANALYTICS_PARTITIONS_AHEAD)


@shared_task(name="analytics.events_purge", **RETRY_ON_TRANSIENT)
def events_purge_task(**kwargs) -> dict:
    """Remove the months past ANALYTICS_RETENTION_DAYS. A redelivery finds them gone and
    removes nothing more."""
    from .retention import events_purge

    result = events_purge()
    return {
        "before": result.before.isoformat(),
        "partitions_dropped": result.partitions_dropped,
        "rows_deleted": result.rows_deleted,
    }


@shared_task(name="analytics.daily_limits_check", **RETRY_ON_TRANSIENT)
def daily_limits_check_task(*, learner_id: str, attempts_by_course: dict, now: str, **kwargs):
    """Record ``daily_limit_reached`` for each daily limit these attempts used up. The attempt
    service now runs the check itself after its commit (``services.attempts_recorded``); the
    task stays for messages queued before that change, and for operators. A redelivery counts
    the same attempts again and may record the event a second time: the event log is
    analytics, and a duplicate there is preferred to a lost one."""
    from datetime import datetime

    from .limits import daily_limits_reached

    return daily_limits_reached(
        learner_id=learner_id,
        attempts_by_course=attempts_by_course,
        now=datetime.fromisoformat(now),
    )
