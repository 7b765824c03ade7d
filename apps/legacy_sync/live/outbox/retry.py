"""Staff's second chance for dead outbox entries (the admin's retry action)."""

from django.db import transaction

from ...models import OutboxEntry, OutboxStatus
from . import outbox_drain_soon


def outbox_entries_retry(*, entry_ids) -> int:
    """Put dead (or failing) entries back in the queue with fresh tries; returns how many.
    Sent and v2-only entries are left alone: there is nothing to retry."""
    with transaction.atomic():
        count = OutboxEntry.objects.filter(
            pk__in=list(entry_ids), status__in=[OutboxStatus.DEAD, OutboxStatus.PENDING]
        ).update(status=OutboxStatus.PENDING, tries=0, next_attempt_at=None)
        if count:
            transaction.on_commit(outbox_drain_soon)
    return count
