"""Quarantine: rows that could not be migrated, kept whole with their reason until fixed."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..models import QuarantinedRow
from .entity import BatchOutcome, Rejection
from .learner_states import learner_states_catch_up
from .registry import ENTITY_ORDER, entities_build

# The key is what conservation counts by: a fix may change anything in the row but that.
KEY_EDITED = ("key_edited", "The row's key was changed in the fix; change it back to retry.")


def quarantine_store(entity: str, rejections: Iterable[Rejection]) -> None:
    """Record rejections; a row seen again keeps its (possibly staff-edited) ``raw`` and gets
    its reason refreshed and ``seen_count`` raised. Precondition: in the batch's transaction."""
    rejections = {r.key: r for r in rejections}
    if not rejections:
        return
    existing = {
        row.legacy_key: row
        for row in QuarantinedRow.objects.filter(entity=entity, legacy_key__in=list(rejections))
    }
    for key, row in existing.items():
        rejection = rejections[key]
        row.reason, row.detail = rejection.reason, rejection.detail[:2000]
        row.blocked_by, row.seen_count = rejection.blocked_by, row.seen_count + 1
        row.last_seen_at = timezone.now()
    QuarantinedRow.objects.bulk_update(
        existing.values(), ["reason", "detail", "blocked_by", "seen_count", "last_seen_at"]
    )
    QuarantinedRow.objects.bulk_create(
        [
            QuarantinedRow(
                entity=entity,
                legacy_key=r.key,
                reason=r.reason,
                detail=r.detail[:2000],
                raw=r.raw,
                blocked_by=r.blocked_by,
            )
            for key, r in rejections.items()
            if key not in existing
        ]
    )


def quarantine_release(entity: str, keys: Iterable[str]) -> int:
    """Forget quarantined rows that have now migrated (conservation: never both)."""
    keys = list(keys)
    if not keys:
        return 0
    deleted, _ = QuarantinedRow.objects.filter(entity=entity, legacy_key__in=keys).delete()
    return deleted


def quarantine_retry(rows: Iterable[QuarantinedRow], *, json_dir=None) -> dict:
    """Migrate quarantined rows again from their (fixed) ``raw``; rows that now migrate leave
    the quarantine and the rows blocked by them are retried in turn.

    Returns {"migrated": n, "still_quarantined": n}.
    """

    def in_dependency_order(rows) -> list[QuarantinedRow]:
        return sorted(rows, key=lambda r: (ENTITY_ORDER.index(r.entity), r.pk))

    pending = in_dependency_order(rows)
    totals = {"migrated": 0, "still_quarantined": 0}
    all_released: list[str] = []
    while pending:
        released = []
        # Fresh entities each round: their caches (the bit index) must see what the last
        # round migrated.
        entities = entities_build(json_dir=json_dir)
        for row in pending:
            entity = entities[row.entity]
            with transaction.atomic():
                QuarantinedRow.objects.filter(pk=row.pk).update(
                    retry_count=F("retry_count") + 1, last_retry_at=timezone.now()
                )
                if entity.key_of(row.raw) != row.legacy_key:
                    outcome = BatchOutcome()
                    outcome.reject(row.legacy_key, KEY_EDITED, row.raw)
                else:
                    outcome = entity.migrate([row.raw])
                if row.legacy_key in outcome.migrated_keys:
                    QuarantinedRow.objects.filter(pk=row.pk).delete()
                    released.append(f"{row.entity}:{row.legacy_key}")
                    totals["migrated"] += 1
                else:
                    quarantine_store(row.entity, outcome.rejections)
                    totals["still_quarantined"] += 1
        # Children wait on the parent's entity key; a fixed bit also releases its attempts.
        pending = in_dependency_order(QuarantinedRow.objects.filter(blocked_by__in=released))
        all_released += released
    with transaction.atomic():
        learner_states_catch_up(all_released)  # so released learners are not beginners
    return totals
