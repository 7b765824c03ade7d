"""v2 → v1: the dual-write outbox.

v2's services call ``outbox_record`` inside their own transactions for the rows v1 can
hold (new learners, sessions and their completions, attempts, XP, published
flashcard-type atoms and their concepts, mistakes, study tasks' status changes). The entry
commits with the write or not at all; after commit a drain is queued (push.py applies
entries to v1), and the beat's sweeper drains whatever a lost message left behind.
"""

import logging
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

from ...models import OutboxEntry
from ..flags import sync_flags

DRAIN_QUEUED_KEY = "legacy_sync:outbox_drain_queued"
logger = logging.getLogger(__name__)


def outbox_record(*, entity: str, v2_ids: Iterable) -> None:
    """Queue v2 rows for v1 when dual write is on. Precondition: inside the transaction
    that writes them. Rows pulled from v1 never come here (the pull writes through the
    backfill's mappers), so nothing is ever pushed back to where it came from."""
    ids = list(v2_ids)
    if not ids or not sync_flags().dual_write:
        return
    OutboxEntry.objects.bulk_create([OutboxEntry(entity=entity, v2_id=str(i)) for i in ids])
    transaction.on_commit(outbox_drain_soon)  # apps.core.dispatch's rule, plus a debounce


def outbox_drain_soon() -> None:
    """Queue one drain; writes that commit while one is queued ride on it. The drain clears
    the mark before it reads the outbox, so a write after that queues another."""
    try:
        if cache.add(DRAIN_QUEUED_KEY, 1, timeout=5):
            from ...tasks import outbox_drain_task

            outbox_drain_task.delay()
    except Exception:  # the broker or v1 (eager mode) is down: the learner's write stands
        logger.warning("outbox drain not queued; the sweeper will send it", exc_info=True)
