"""``--repair``: bring unexplained differences back in line, each in the direction of the side
that owns the row.

- missing in v2: the backfill entity migrates the v1 row again (a row it now rejects goes to
  the quarantine with its reason, and is explained from the next run on);
- mismatch of a migrated row (v1 wins): the v2 copy is replaced by a fresh migration of the v1
  row, only where that is safe: rows v2 never edits (sessions, attempts, mistakes, points,
  tasks whose status no learner set in v2), not archived by a progress reset, one v2 row for
  the key. The swap is one savepoint: the copy is deleted with plain SQL (so rows that point
  at it are left alone), migrated again under the same deterministic id, and the foreign keys
  are checked before it is kept; a row v1 no longer lets migrate keeps its copy;
- missing in v1 or mismatch of a v2-origin row (v2 wins): a pending OutboxEntry, so the
  outbox pushes the row's current state;
- mismatch of a migrated row v2 edited (the mapping's ``v2_edits``, a task's status, and an
  outbox entry for the row) in those columns alone: v2 wins, queued again, so a learner's
  done or dismissed is never undone. v1's tasks record no change time, so a v1 edit after
  v2's push cannot be told from a push that never landed. If v1 changed other columns too
  (a task's title), the difference is left to staff with the reason;
- missing in v1 of a migrated row (v1 deleted it) is left to staff: deleting a learner's
  history is not a repair to make unattended.

A difference that is not repaired says why in its explanation (it stays unexplained).
"""

from django.db import IntegrityError, connection, transaction

from apps.core.models import Origin

from ..backfill.entity import Entity
from ..backfill.learner_states import learner_states_catch_up
from ..backfill.quarantine import quarantine_store
from ..backfill.registry import entities_build
from ..models import DifferenceKind, OutboxEntry, OutboxStatus
from ..v1.gateway import marks, v1_fetch_dicts
from .differences import Difference
from .entities import Mapping
from .explain import V2_ONLY_KEY_PREFIX
from .rowhash import canonical_value

# Released keys of these entities change learners' scheduler states (see quarantine_retry).
STATE_ENTITIES = ("users", "attempts")


class _KeepCopy(Exception):
    """The replacement is abandoned; the savepoint restores the v2 copy."""


def differences_repair(mapping: Mapping, differences: list[Difference]) -> None:
    """Repair the unexplained ``differences`` of ``mapping`` where it can, marking each
    ``repaired`` or saying why not. Runs its own transactions."""
    pending = [d for d in differences if not d.explained]
    if not pending:
        return
    entity = entities_build()[mapping.backfill] if mapping.backfill else None
    edited = _edited_in_v2(mapping, pending)
    migrate, replace, push = [], [], []
    for difference in pending:
        if entity is None:
            _not_repaired(difference, mapping.kept_because)
        elif difference.extra.get("held"):
            _not_repaired(difference, "the row is in quarantine too: retry or fix it there")
        elif difference.v2_origin == Origin.V2:
            push.append(difference)
        elif str(difference.v2_id) in edited and difference.kind == DifferenceKind.MISMATCH:
            if _differs_only_in(mapping, difference, mapping.v2_edits):
                push.append(difference)
            else:
                _not_repaired(difference, f"v2 changed its {', '.join(mapping.v2_edits)} and "
                              "v1 other columns: staff decide which to keep")  # fmt: skip
        elif difference.kind == DifferenceKind.MISSING_IN_V2:
            migrate.append(difference)
        elif difference.kind == DifferenceKind.MISMATCH:
            replace.append(difference)
        else:
            _not_repaired(difference, "v1 no longer has the row; deleting its v2 copy is for staff")
    released = []
    if migrate:
        released += _migrate(mapping, entity, migrate)
    if replace:
        released += _replace(mapping, entity, replace)
    if push:
        _push(mapping, push)
    released = [f"{mapping.backfill}:{key}" for key in released]
    if mapping.backfill in STATE_ENTITIES and released:
        with transaction.atomic():
            learner_states_catch_up(released)  # so migrated history shows in the states


def _edited_in_v2(mapping: Mapping, differences: list[Difference]) -> set[str]:
    """The v2 rows (primary keys as text) of a mapping with ``v2_edits`` that the outbox was
    ever asked to push: a learner changed them in v2."""
    if not mapping.v2_edits:
        return set()
    ids = sorted({str(d.v2_id) for d in differences if d.v2_id is not None})
    found = set()
    for start in range(0, len(ids), 500):
        found.update(
            OutboxEntry.objects.filter(
                entity=mapping.name, v2_id__in=ids[start : start + 500]
            ).values_list("v2_id", flat=True)
        )
    return found


def _differs_only_in(mapping: Mapping, difference: Difference, columns: tuple[str, ...]) -> bool:
    """Whether the two sides agree outside ``columns``, each value written as it is hashed
    (v1's naive and v2's aware timestamps alike)."""
    v1_values, v2_values = difference.v1_values or {}, difference.v2_values or {}
    return all(
        canonical_value(column.kind, v1_values.get(column.name))
        == canonical_value(column.kind, v2_values.get(column.name))
        for column in mapping.columns
        if column.name not in columns
    )


def _not_repaired(difference: Difference, why: str) -> None:
    difference.explanation = f"not repaired: {why}"[:200]


def _repaired(difference: Difference, how: str) -> None:
    difference.repaired, difference.explanation = True, f"repaired: {how}"


def _v1_rows(entity: Entity, keys: list[str]) -> dict[str, dict]:
    """The current v1 rows of ``keys``, as the backfill reads them."""
    found = {}
    select = entity.select or f"SELECT * FROM {entity.table}"  # noqa: S608 - fixed names
    column = f"{entity.table}.{entity.key_column}"
    for start in range(0, len(keys), 500):
        chunk = [k if entity.key_is_text else int(k) for k in keys[start : start + 500]]
        sql = f"{select} WHERE {column} IN ({marks(len(chunk))}) ORDER BY {column}"
        for row in v1_fetch_dicts(sql, chunk):
            found[entity.key_of(row)] = row
    return found


def _present(mapping: Mapping, keys: list[str]) -> set[str]:
    return set(
        mapping.model.objects.filter(origin=Origin.LEGACY, legacy_key__in=keys).values_list(
            "legacy_key", flat=True
        )
    )


def _migrate(mapping: Mapping, entity: Entity, differences: list[Difference]) -> list[str]:
    rows = _v1_rows(entity, [d.legacy_key for d in differences])
    with transaction.atomic():
        outcome = entity.migrate(list(rows.values())) if rows else None
        if outcome is not None:
            quarantine_store(entity.name, outcome.rejections)
    migrated = set(outcome.migrated_keys) if outcome else set()
    rejected = {r.key: r.reason for r in outcome.rejections} if outcome else {}
    present = _present(mapping, list(rows))
    released = []
    for difference in differences:
        key = difference.legacy_key
        if key in present and key in migrated:
            _repaired(difference, "migrated from v1")
            released.append(key)
        elif key in rejected:
            _not_repaired(difference, f"v1's row is rejected, now quarantined ({rejected[key]})")
        elif key not in rows:
            _not_repaired(difference, "v1 no longer has the row")
        else:
            _not_repaired(difference, "the backfill did not write the row")
    return released


def _replace(mapping: Mapping, entity: Entity, differences: list[Difference]) -> list[str]:
    rows = _v1_rows(entity, [d.legacy_key for d in differences])
    model, released = mapping.model, []
    archived = _archived(mapping, [d.v2_id for d in differences])
    tables = _tables_pointing_at(model)
    for difference in differences:
        key = difference.legacy_key
        if not mapping.replaceable:
            _not_repaired(difference, mapping.kept_because)
        elif difference.extra.get("duplicates"):
            _not_repaired(difference, "several v2 rows carry this legacy key")
        elif difference.v2_id in archived:
            _not_repaired(difference, "the v2 copy is archived by a progress reset")
        elif key not in rows:
            _not_repaired(difference, "v1 no longer has the row")
        else:
            try:
                with transaction.atomic():
                    with connection.cursor() as cursor:
                        cursor.execute(
                            f"DELETE FROM {model._meta.db_table} WHERE id = %s",  # noqa: S608
                            [model._meta.pk.get_db_prep_value(difference.v2_id, connection)],
                        )
                    outcome = entity.migrate([rows[key]])
                    if key not in outcome.migrated_keys or key not in _present(mapping, [key]):
                        reasons = ", ".join(r.reason for r in outcome.rejections) or "not written"
                        raise _KeepCopy(f"v1's row no longer migrates ({reasons})")
                    connection.check_constraints(table_names=tables)
            except _KeepCopy as exc:
                _not_repaired(difference, str(exc))
            except IntegrityError as exc:
                _not_repaired(difference, f"rows point at the v2 copy: {exc}")
            else:
                _repaired(difference, "replaced by v1's row")
                released.append(key)
    return released


def _archived(mapping: Mapping, v2_ids: list) -> set:
    fields = {f.name for f in mapping.model._meta.get_fields()}
    if "archived_in" not in fields:
        return set()
    return set(
        mapping.model.objects.filter(pk__in=v2_ids, archived_in__isnull=False).values_list(
            "pk", flat=True
        )
    )


def _tables_pointing_at(model) -> list[str]:
    """The model's table and those with foreign keys to it: what a swap could break."""
    tables = {model._meta.db_table}
    for relation in model._meta.related_objects:
        if relation.many_to_many:
            continue
        tables.add(relation.related_model._meta.db_table)
    return sorted(tables)


def _push(mapping: Mapping, differences: list[Difference]) -> None:
    with transaction.atomic():
        OutboxEntry.objects.bulk_create(
            OutboxEntry(
                entity=mapping.name,
                v2_id=str(d.v2_id),
                status=OutboxStatus.PENDING,
                legacy_key="" if d.legacy_key.startswith(V2_ONLY_KEY_PREFIX) else d.legacy_key,
            )
            for d in differences
        )
    for difference in differences:
        _repaired(difference, "queued in the outbox")
