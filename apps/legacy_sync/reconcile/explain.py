"""Why a difference is expected: the rules that make it *explained*.

- a v1 row missing in v2 is quarantined (``quarantined: <reason>``), or merged into another
  row (such *held* rows are set aside from the hashed ranges and listed by key, see sides.py;
  per-learner attempt counts leave quarantined attempts out of v1's count);
- a v2-origin row's change is queued in the outbox (a pending OutboxEntry), and so is a v2
  edit of a migrated row where the mapping's ``v2_edits`` says v2 changes such rows (a
  task's status);
- a v2 row that v1 cannot hold: v2-origin rows without a legacy key are no v1 rows, and
  those the outbox knows are reported as missing in v1, explained while the entry is
  ``v2_only`` (its ``last_error`` says why) or ``pending``; a ``dead`` one is not explained.

Anything else is unexplained.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db.models import Q

from apps.core.models import Origin

from ..models import DifferenceKind, MergedLegacyRow, OutboxEntry, OutboxStatus, QuarantinedRow
from .differences import Difference
from .entities import Mapping

CHUNK = 500  # keys per IN list (SQLite's parameter limit)
QUEUED = "queued in the outbox"
V2_ONLY_KEY_PREFIX = "v2:"


def _chunks(items: list) -> Iterable[list]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def held_keys(mapping: Mapping) -> list[str]:
    """v1 keys of the mapping's held entity that are quarantined or merged."""
    entity = mapping.held_entity
    quarantined = QuarantinedRow.objects.filter(entity=entity).values_list("legacy_key", flat=True)
    merged = MergedLegacyRow.objects.filter(entity=entity).values_list("legacy_key", flat=True)
    return sorted({*quarantined, *merged})


def differences_explain(mapping: Mapping, differences: list[Difference]) -> None:
    """Mark the differences the rules explain (in place)."""
    missing = sorted({d.legacy_key for d in differences if d.kind == DifferenceKind.MISSING_IN_V2})
    quarantined, merged = {}, {}
    for chunk in _chunks(missing if mapping.held_entity == mapping.name else []):
        quarantined.update(
            QuarantinedRow.objects.filter(entity=mapping.name, legacy_key__in=chunk).values_list(
                "legacy_key", "reason"
            )
        )
        merged.update(
            (key, f"{into} ({rule})")
            for key, into, rule in MergedLegacyRow.objects.filter(
                entity=mapping.name, legacy_key__in=chunk
            ).values_list("legacy_key", "merged_into", "rule")
        )
    queued = _queued(mapping, [d.v2_id for d in differences if _pushes(mapping, d)])
    for difference in differences:
        if difference.explained:
            continue
        key, missing_in_v2 = difference.legacy_key, difference.kind == DifferenceKind.MISSING_IN_V2
        if missing_in_v2 and key in quarantined:
            difference.explain(f"quarantined: {quarantined[key]}")
        elif missing_in_v2 and key in merged:
            difference.explain(f"merged into {merged[key]}")
        elif _pushes(mapping, difference) and str(difference.v2_id) in queued:
            difference.explain(QUEUED)


def _pushes(mapping: Mapping, difference: Difference) -> bool:
    """Whether an outbox entry for the difference's v2 row would carry v2's side to v1."""
    return difference.v2_origin == Origin.V2 or bool(mapping.v2_edits and difference.v2_id)


def _queued(mapping: Mapping, v2_ids: list) -> set[str]:
    """Which of the rows (by id) have a pending outbox entry. Entries name rows by the text
    of their primary key (a UUID, or an XP event's number)."""
    ids = sorted({str(v2_id) for v2_id in v2_ids if v2_id is not None})
    found = set()
    for chunk in _chunks(ids):
        found.update(
            OutboxEntry.objects.filter(
                entity=mapping.name, v2_id__in=chunk, status=OutboxStatus.PENDING
            ).values_list("v2_id", flat=True)
        )
    return found


def v2_only_differences(mapping: Mapping) -> list[Difference]:
    """v2-origin rows without a legacy key that the outbox was asked to push: each is missing
    in v1, explained or not by its outbox entries (pending first, then the newest)."""
    if mapping.model is None:
        return []
    field = mapping.model._meta.pk
    entries: dict = {}  # primary key → the entry that speaks for the row
    for entry in (
        OutboxEntry.objects.filter(entity=mapping.name)
        .exclude(status=OutboxStatus.SENT)
        .order_by("id")
        .only("v2_id", "status", "last_error")
    ):
        try:
            pk = field.to_python(entry.v2_id)
        except ValidationError:
            continue  # names no row of this model
        kept = entries.get(pk)
        if kept is None or kept.status != OutboxStatus.PENDING:
            entries[pk] = entry
    unkeyed = Q(legacy_key__isnull=True) | Q(legacy_key="")
    rows = set()
    for chunk in _chunks(list(entries)):
        rows.update(
            mapping.model.objects.filter(unkeyed, pk__in=chunk, origin=Origin.V2).values_list(
                "pk", flat=True
            )
        )
    found = []
    for pk in sorted(rows, key=str):
        entry, v2_id = entries[pk], str(pk)
        difference = Difference(
            entity=mapping.name,
            legacy_key=f"{V2_ONLY_KEY_PREFIX}{v2_id}",
            kind=DifferenceKind.MISSING_IN_V1,
            v2_values={"v2_id": v2_id, "origin": Origin.V2, "outbox": entry.status,
                       "last_error": entry.last_error},
            v2_origin=Origin.V2,
            v2_id=v2_id,
        )  # fmt: skip
        if entry.status == OutboxStatus.PENDING:
            difference.explain(QUEUED)
        elif entry.status == OutboxStatus.V2_ONLY:
            difference.explain(entry.last_error or "v1 cannot represent it")
        found.append(difference)
    return found
