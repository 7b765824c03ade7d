"""The learning app's periodic work."""

from celery import shared_task
from django.conf import settings

from apps.core.dispatch import RETRY_ON_TRANSIENT


@shared_task(name="learning.attempt_partitions_ensure", **RETRY_ON_TRANSIENT)
def attempt_partitions_ensure_task(**kwargs) -> list[str]:
    """Keep the attempt log's partitions for this month and the coming ones ready, so live
    answers never land in the default partition (a no-op where attempts are not partitioned).
    Idempotent: a redelivery finds them made."""
    from .services.partitions import attempt_partitions_ensure_ahead

    return attempt_partitions_ensure_ahead(months=settings.ATTEMPT_PARTITIONS_AHEAD)
