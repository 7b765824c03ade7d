"""Applying the outbox to v1: batches of pending entries, in id order.

A batch goes in three steps, so that no failure can lose or double a write:
1. In a v2 transaction the entries are claimed (a lease: other drains skip them until it
   runs out), mapped to v1 rows, and every row new to v1 gets its v1 id reserved from v1's
   own sequence and stored on the v2 row. This commits before v1 is touched, so a pull
   that meets the v1 row later knows it is v2's own (no echo), and a retry after a crash
   writes the same id again.
2. v1 gets the rows as upserts on those ids in one transaction; if one row fails (an
   IntegrityError, a value v1 refuses) the batch is retried row by row and only that row
   fails.
3. The entries are marked sent, v2-only, waiting (a parent has no v1 id yet) or failed
   (retried with exponential backoff, dead after LEGACY_OUTBOX_MAX_TRIES).

If v1 cannot be reached, nothing is marked: the entries stay pending and their tries are
not spent, so a long outage never kills entries; the outbox just grows until v1 is back.

Conflicts (sessions are the one v1 row both sides change: v1 completes its sessions, and
so does v2 when a learner finishes there): the side that owns the row, by origin, wins.
A completion is never erased by a side that has none.
"""

from dataclasses import dataclass, field
from datetime import UTC, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, DataError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.models import Origin
from apps.learning.models import StudySession

from ...models import OutboxEntry, OutboxStatus, ReadSource, SyncConflict
from ...v1.gateway import v1_cursor, v1_execute, v1_fetch_one, v1_is_postgres
from .mappers import (
    MAPPERS,
    PUSH_ORDER,
    RELATED,
    SPECS,
    UPDATED_ON_CONFLICT,
    V2_TASK_KEY_PREFIX,
    V2Only,
    Waiting,
)

RESERVE_TRIES = 50
MAX_PARENTS = 4  # an attempt's user, session and bit, plus one more level
WAIT_RETRY = timedelta(seconds=1)


@dataclass
class Pushed:
    entry: OutboxEntry
    table: str
    key: int | str  # v1's id: an integer, or text for tasks
    values: dict
    owner: str  # ReadSource: who wins a conflict on this row


@dataclass
class DrainReport:
    sent: int = 0
    v2_only: int = 0
    waiting: int = 0
    failed: int = 0
    dead: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: "DrainReport") -> None:
        for name in ("sent", "v2_only", "waiting", "failed", "dead", "batches"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors


def outbox_drain(*, max_batches: int = 100) -> DrainReport:
    """Push pending entries until none is due (or ``max_batches``). Safe to run concurrently
    and twice: claims keep drains apart and every v1 write is an upsert on a fixed id."""
    report = DrainReport()
    for _ in range(max_batches):
        batch = outbox_batch_push(limit=settings.LEGACY_OUTBOX_BATCH)
        report.add(batch)
        if batch.batches == 0:
            break
    return report


def outbox_batch_push(*, limit: int) -> DrainReport:
    report = DrainReport()
    now = timezone.now()
    lease = timedelta(seconds=settings.LEGACY_OUTBOX_LEASE_S)
    with transaction.atomic():
        entries = list(
            OutboxEntry.objects.select_for_update(skip_locked=True)
            .filter(status=OutboxStatus.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .order_by("id")[:limit]
        )
        if not entries:
            return report
        report.batches = 1
        OutboxEntry.objects.filter(pk__in=[e.pk for e in entries]).update(
            next_attempt_at=now + lease
        )
        pushed, outcomes = _map_and_reserve(entries)
    # The reservations are committed: from here a crash only means a resend on the same ids.
    try:
        failures = _v1_write(pushed)
    except DatabaseError:
        # v1 is unreachable: hand the claims back soon, spend no tries, let the caller retry.
        OutboxEntry.objects.filter(pk__in=[e.pk for e in entries]).update(
            next_attempt_at=timezone.now() + WAIT_RETRY
        )
        raise
    _outcomes_store(entries, pushed, outcomes, failures, report)
    return report


def _map_and_reserve(entries: list[OutboxEntry]) -> tuple[list[Pushed], dict]:
    """Precondition: inside the claiming transaction. Maps each entry in id order (a parent
    queued before its child gets its v1 id first) and reserves v1 ids for new rows. A
    parent that nothing had queued (dual write switched on after it was written) is queued
    and pushed first, in this batch."""
    rows = {}
    for entity in {e.entity for e in entries} & SPECS.keys():
        spec = SPECS[entity]
        ids = [i for i in (e.v2_id for e in entries if e.entity == entity) if _is_pk(spec, i)]
        found = spec.model.objects.select_related(*RELATED[entity]).in_bulk(ids)
        rows[entity] = {str(pk): row for pk, row in found.items()}
    pushed, outcomes = [], {}
    for entry in entries:
        if entry.entity not in SPECS:
            outcomes[entry.pk] = ("v2_only", f"v1 has no table for {entry.entity!r}")
            continue
        row = rows[entry.entity].get(entry.v2_id)
        _entry_map(entry, row, pushed, outcomes, depth=0)
    return pushed, outcomes


def _is_pk(spec, value: str) -> bool:
    try:
        spec.model._meta.pk.to_python(value)
    except ValidationError:
        return False
    return True


def _entry_map(entry: OutboxEntry, row, pushed: list, outcomes: dict, *, depth: int) -> None:
    if row is None:
        outcomes[entry.pk] = ("v2_only", "the v2 row no longer exists")
        return
    row.refresh_from_db(fields=["legacy_key"])  # an earlier entry may have just set it
    for _ in range(MAX_PARENTS):
        try:
            values = MAPPERS[entry.entity](row)
            break
        except V2Only as exc:
            outcomes[entry.pk] = ("v2_only", str(exc))
            # stored now too: a child mapped next in this batch must see it
            OutboxEntry.objects.filter(pk=entry.pk).update(
                status=OutboxStatus.V2_ONLY, last_error=str(exc)
            )
            return
        except Waiting as exc:
            if exc.queued is None or depth >= MAX_PARENTS:
                outcomes[entry.pk] = ("waiting", str(exc))
                return
            parent_row = SPECS[exc.entity].model.objects.get(pk=exc.v2_id)
            _entry_map(exc.queued, parent_row, pushed, outcomes, depth=depth + 1)
            # a child refreshes its related rows: the parent may now have its v1 id
            row = (
                SPECS[entry.entity]
                .model.objects.select_related(*RELATED[entry.entity])
                .get(pk=row.pk)
            )
    else:
        outcomes[entry.pk] = ("waiting", "too many parents to queue at once")
        return
    spec = SPECS[entry.entity]
    if spec.key_is_text:  # v1's task ids are text: a migrated task keeps its own
        key = row.legacy_key or None
    else:
        key = row.legacy_key if (row.legacy_key or "").isdigit() else None
    if key is None:
        key = (
            f"{V2_TASK_KEY_PREFIX}{row.pk.hex}"
            if spec.key_is_text
            else v1_id_reserve(spec.table, entry.entity)
        )
        type(row).objects.filter(pk=row.pk).update(legacy_key=str(key))
    OutboxEntry.objects.filter(pk=entry.pk).update(legacy_key=str(key))
    owner = ReadSource.V1 if row.origin == Origin.LEGACY else ReadSource.V2
    key = str(key) if spec.key_is_text else int(key)
    pushed.append(Pushed(entry, spec.table, key, values, owner))


def v1_id_reserve(table: str, entity: str) -> int:
    """A v1 id for a new row, from the sequence v1's own inserts use (PostgreSQL), so the
    two systems never pick the same id. SQLite has no sequences: the next id above both
    v1's rows and the ids already reserved (SQLite serialises writers, and the embedded
    legacy database has no other writer)."""
    with v1_cursor() as cursor:
        if v1_is_postgres():
            for _ in range(RESERVE_TRIES):
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
                key = cursor.fetchone()[0]
                # A sequence behind its rows (ids inserted by hand) would hand out taken ids.
                cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s", [key])  # noqa: S608
                if cursor.fetchone() is None:
                    return key
            raise DataError(
                f"v1's id sequence for {table} is behind its rows; move it past MAX(id) with "
                f"setval(pg_get_serial_sequence('{table}', 'id'), ...)."
            )
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - fixed names
        highest = cursor.fetchone()[0]
    reserved = [
        int(k)
        for k in OutboxEntry.objects.filter(entity=entity).exclude(legacy_key="")
        .values_list("legacy_key", flat=True)
    ]  # fmt: skip
    return max([highest, *reserved]) + 1


def _v1_write(pushed: list[Pushed]) -> dict:
    """Upsert the rows into v1; {entry pk: error} for rows v1 refused. Raises DatabaseError
    (other than a refused row) when v1 is unreachable."""
    if not pushed:
        return {}
    ordered = sorted(pushed, key=lambda p: (PUSH_ORDER.index(p.entry.entity), p.entry.pk))
    try:
        with transaction.atomic(using="legacy"):
            for item in ordered:
                _v1_upsert(item)
        return {}
    except IntegrityError:
        pass
    except DatabaseError as exc:
        if not _is_row_error(exc):
            raise
    failures = {}
    for item in ordered:  # one bad row must not hold back the rest
        try:
            with transaction.atomic(using="legacy"):
                _v1_upsert(item)
        except DatabaseError as exc:
            if not (isinstance(exc, IntegrityError) or _is_row_error(exc)):
                raise
            failures[item.entry.pk] = f"{type(exc).__name__}: {exc}".strip()[:2000]
    return failures


def _is_row_error(exc: DatabaseError) -> bool:
    """A value v1 refuses (too long, out of range) rather than v1 being unreachable."""
    return type(exc).__name__ in {"DataError", "IntegrityError"}


def _v1_upsert(item: Pushed) -> None:
    values = dict(item.values)
    if item.table == "sessions":
        values["completed_at"] = _completion_reconciled(item)
    columns = ["id", *values]
    marks = ", ".join(["%s"] * len(columns))
    updated = UPDATED_ON_CONFLICT.get(item.entry.entity, values)
    updates = ", ".join(f"{c} = excluded.{c}" for c in updated)
    sql = (
        f"INSERT INTO {item.table} ({', '.join(columns)}) VALUES ({marks}) "  # noqa: S608
        f"ON CONFLICT (id) DO UPDATE SET {updates}"
    )
    v1_execute(sql, [item.key, *values.values()])


def _completion_reconciled(item: Pushed):
    """The session's completed_at to store in v1: the owner's value when both sides have
    one and they differ (logged as a conflict; v2 takes v1's value when v1 owns it), else
    whichever side has one."""
    found = v1_fetch_one("SELECT completed_at FROM sessions WHERE id = %s", [item.key])
    v1_value, v2_value = (found[0] if found else None), item.values["completed_at"]
    if v1_value is None or v2_value is None or v1_value == v2_value:
        return v2_value or v1_value
    SyncConflict.objects.create(
        entity="sessions", legacy_key=str(item.key), winner=item.owner,
        v1_values={"completed_at": v1_value.isoformat()},
        v2_values={"completed_at": v2_value.isoformat()},
    )  # fmt: skip
    if item.owner == ReadSource.V2:
        return v2_value
    StudySession.objects.filter(pk=item.entry.v2_id).update(
        completed_at=v1_value.replace(tzinfo=UTC)
    )
    return v1_value


def _outcomes_store(entries, pushed, outcomes, failures, report: DrainReport) -> None:
    now = timezone.now()
    max_tries = settings.LEGACY_OUTBOX_MAX_TRIES
    for item in pushed:
        if item.entry.pk not in failures:
            outcomes[item.entry.pk] = ("sent", "")
        else:
            outcomes[item.entry.pk] = ("failed", failures[item.entry.pk])
    known = {e.pk: e for e in entries} | {p.entry.pk: p.entry for p in pushed}
    with transaction.atomic():
        for pk, (kind, message) in outcomes.items():
            entry = known.get(pk) or OutboxEntry.objects.get(pk=pk)
            update = {"last_error": message}
            if kind == "sent":
                update |= {"status": OutboxStatus.SENT, "sent_at": now, "next_attempt_at": None}
                report.sent += 1
            elif kind == "v2_only":
                update |= {"status": OutboxStatus.V2_ONLY, "next_attempt_at": None}
                report.v2_only += 1
            elif kind == "waiting":
                update |= {"next_attempt_at": now + WAIT_RETRY}
                report.waiting += 1
            else:
                tries = entry.tries + 1
                dead = tries >= max_tries
                update |= {
                    "tries": tries,
                    "status": OutboxStatus.DEAD if dead else OutboxStatus.PENDING,
                    "next_attempt_at": None if dead else now + timedelta(seconds=2**tries),
                }
                report.failed += 1
                report.dead += dead
                report.errors.append(f"{entry.entity} {entry.v2_id}: {message}")
            OutboxEntry.objects.filter(pk=entry.pk).update(**update)
