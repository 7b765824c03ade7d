"""Whether reconciliation has covered a span of attempts, so they may leave the live table."""

from ..models import ReconciliationRun, ReconciliationStatus


def attempt_month_archive_refusal(start, end) -> str | None:
    """None when a clean reconciliation run that compared attempts started at or after ``end``
    (it saw every attempt answered in [start, end) on both sides and found them equal);
    otherwise why not, naming the latest run."""
    covering = ReconciliationRun.objects.filter(started_at__gte=end, entities__has_key="attempts")
    if covering.filter(status=ReconciliationStatus.CLEAN).exists():
        return None
    latest = covering.order_by("-started_at").first()
    if latest is None:
        return (
            f"no reconciliation of attempts has run since {end:%Y-%m-%d}; run legacy_reconcile "
            "and detach once it is clean"
        )
    return (
        f"the reconciliation of {latest.started_at:%Y-%m-%d %H:%M} ended {latest.status} "
        f"({latest.differences} unexplained differences); resolve them and reconcile again"
    )
