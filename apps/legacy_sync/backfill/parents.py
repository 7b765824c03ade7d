"""Why a row's parent (its user, session, bit...) is not there in v2, batch at a time.

A parent is either migrated (fine), created in v2 and pushed to v1 (fine: found by the v1 id
it got, kept in its legacy_key), quarantined (the child waits for it: blocked_by), absent
from v1 altogether (the child is an orphan: ``unknown_<parent>``), or in v1 but not migrated
yet (an entity run out of order: also blocked). Only the few missing parents cost a query.
"""

from collections.abc import Iterable

from django.db import connection

from apps.core.models import Origin

from ..models import QuarantinedRow
from ..v1.entities import BY_NAME
from ..v1.gateway import marks, v1_fetch
from .keys import legacy_uuid
from .writer import keys_missing


class ParentCheck:
    def __init__(self, entity: str, *, id_entity: str | None = None):
        v1 = BY_NAME[entity]
        self.entity, self.table, self.model = entity, v1.table, v1.model
        self.id_entity = id_entity or entity
        self.pushed: dict = {}  # v1 key → v2 id of parents that v2 created and pushed

    def v2_id(self, key):
        """The v2 id of a parent ``problems`` found: derived from the key, or the pushed row's."""
        pushed = self.pushed.get(key)
        return pushed if pushed is not None else legacy_uuid(self.id_entity, key)

    def problems(self, keys: Iterable) -> dict:
        """{key: (reason, blocked_by)} for every key whose parent is not migrated."""
        keys = {k for k in keys if k is not None}
        if not keys:
            return {}
        ids = {legacy_uuid(self.id_entity, k): k for k in keys}
        missing = {ids[i] for i in missing_ids(self.model, list(ids))}
        if not missing:
            return {}
        by_text = {str(k): k for k in missing}
        for pk, key in self.model.objects.filter(
            origin=Origin.V2, legacy_key__in=list(by_text)
        ).values_list("pk", "legacy_key"):
            self.pushed[by_text[key]] = pk
            missing.discard(by_text[key])
        if not missing:
            return {}
        quarantined = set(
            QuarantinedRow.objects.filter(
                entity=self.entity, legacy_key__in=[str(k) for k in missing]
            ).values_list("legacy_key", flat=True)
        )
        sql = f"SELECT id FROM {self.table} WHERE id IN ({marks(len(missing))})"  # noqa: S608
        in_v1 = {str(row[0]) for row in v1_fetch(sql, list(missing))}
        problems = {}
        for key in missing:
            blocked = f"{self.entity}:{key}"
            if str(key) in quarantined:
                problems[key] = ("parent_quarantined", blocked)
            elif str(key) in in_v1:
                problems[key] = ("parent_not_migrated", blocked)
            else:
                problems[key] = (f"unknown_{self.entity.rstrip('s')}", "")
        return problems


def parent_problem(row: dict, column: str, label: str, problems: dict) -> tuple | None:
    """(reason, detail, blocked_by) when the row's parent (``row[column]``) is missing or not
    migrated, from ``ParentCheck.problems``."""
    value = row.get(column)
    if value is None:
        return f"missing_{label}", f"{column} is empty.", ""
    if value in problems:
        reason, blocked = problems[value]
        return reason, f"{label} {value}.", blocked
    return None


def missing_ids(model, ids: list) -> set:
    """Which of ``ids`` are not primary keys of ``model``'s rows (a batch checks thousands)."""
    if connection.vendor != "postgresql":
        return set(ids) - set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
    return keys_missing(model._meta.pk, ids)
