"""One reconciliation of v1 with v2: entity by entity, bisect, explain, optionally repair,
and record the run (ReconciliationRun) with every difference (ReconciliationDifference).

Entities go in dependency order and each is repaired before the next is compared, so users
restored by a repair are there when their sessions and attempts are migrated again.
"""

import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager

from django.utils import timezone

from ..models import (
    DifferenceKind,
    ReconciliationDifference,
    ReconciliationRun,
    ReconciliationStatus,
)
from ..v1.gateway import v1_atomic, v1_connection, v1_cursor, v1_fetch_one, v1_is_postgres
from .differences import Difference, key_order
from .entities import Mapping, mappings_select
from .explain import differences_explain, held_keys, v2_only_differences
from .ranges import Span, differences_bisect
from .repair import differences_repair
from .rowhash import TEXT_KEY_BITS
from .sides import SqlSide, sides_build

DEFAULT_PARTS = 32  # data-diff's bisection factor
DEFAULT_ROW_THRESHOLD = 1_000  # a differing range with at most this many rows is fetched
ROW_LIMIT = 200_000  # rows fetched per entity at most; beyond, ranges are counted unreported
WORK_MEM = "64MB"  # the attempts query hash-joins 450k sessions: keep it in memory
METHODS = ("auto", "sql", "python")

EntityCallback = Callable[[str, dict], None]


def reconcile_run(
    *,
    repair: bool = False,
    entities: Sequence[str] | None = None,
    method: str = "auto",
    parts: int = DEFAULT_PARTS,
    row_threshold: int = DEFAULT_ROW_THRESHOLD,
    on_entity: EntityCallback | None = None,
) -> ReconciliationRun:
    """Compare v1 with v2 for ``entities`` (default: all) and record the run.

    ``method``: "sql" hashes in PostgreSQL (both databases must be on it), "python" reads
    the rows and hashes them here, "auto" picks sql when it can. ``parts`` and
    ``row_threshold`` tune the bisection. Raises ValueError for an unknown entity or method;
    any other failure marks the run failed and is raised again.
    """
    selected = mappings_select(entities)
    method = _method(method)
    if parts < 2 or row_threshold < 1:
        raise ValueError("parts must be at least 2 and row_threshold at least 1")
    run = ReconciliationRun.objects.create()
    try:
        for mapping in selected:
            entry = _entity_reconcile(run, mapping, method=method, repair=repair,
                                      parts=parts, row_threshold=row_threshold)  # fmt: skip
            run.entities[mapping.name] = entry
            ReconciliationRun.objects.filter(pk=run.pk).update(entities=run.entities)
            if on_entity:
                on_entity(mapping.name, entry)
    except Exception as exc:
        run.status, run.failure = ReconciliationStatus.FAILED, f"{type(exc).__name__}: {exc}"
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "failure", "finished_at"])
        raise
    entries = run.entities.values()
    run.differences = sum(e["differences"] for e in entries)
    run.explained = sum(e["explained"] for e in entries)
    run.repaired = sum(e["repaired"] for e in entries)
    unreported = sum(e["unreported_ranges"] for e in entries)
    clean = run.differences == 0 and unreported == 0
    run.status = ReconciliationStatus.CLEAN if clean else ReconciliationStatus.DIFFERENCES
    run.finished_at = timezone.now()
    run.save(update_fields=["differences", "explained", "repaired", "status", "finished_at"])
    return run


def reconcile_nightly(*, repair: bool = False, **kwargs) -> int:
    """What the nightly Celery task runs: every entity, recorded; returns the run's id.
    Differences are the run's result for the status pages, not an error."""
    return reconcile_run(repair=repair).pk


def _method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}. Known: {', '.join(METHODS)}.")
    both_postgres = v1_is_postgres("default") and v1_is_postgres()
    if method == "sql" and not both_postgres:
        raise ValueError("The sql method needs both databases on PostgreSQL.")
    if method == "auto":
        return "sql" if both_postgres else "python"
    return method


@contextmanager
def _snapshot(alias: str):
    """On PostgreSQL, one repeatable-read snapshot per side for the whole bisection, so its
    levels compare the same rows even while v1 keeps writing."""
    if not v1_is_postgres(alias) or v1_connection(alias).in_atomic_block:
        yield
        return
    with v1_atomic(alias):
        with v1_cursor(alias) as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        yield


def _domain(mapping: Mapping) -> Span:
    """v1's key range (one index lookup); text keys span the whole hash line."""
    if mapping.key_is_text:
        return Span(-1, (1 << TEXT_KEY_BITS) - 1)
    low, high = v1_fetch_one(mapping.v1_domain, [])
    return Span(-1, 0) if low is None else Span(int(low) - 1, int(high))


def _entity_reconcile(run, mapping: Mapping, *, method, repair, parts, row_threshold) -> dict:
    started = time.perf_counter()
    with _snapshot("legacy"), _snapshot("default"):
        v1, v2 = sides_build(mapping, method=method, held=held_keys(mapping))
        differences, stats = differences_bisect(
            v1, v2, domain=_domain(mapping), parts=parts, row_threshold=row_threshold,
            row_limit=ROW_LIMIT,
        )  # fmt: skip
        held = [
            Difference(entity="", legacy_key=row.key, kind=DifferenceKind.MISSING_IN_V2,
                       v1_values=row.values)
            for row in v1.held_rows()
        ]  # fmt: skip
        v2_only = v2_only_differences(mapping)
    differences = sorted(_with_held(differences, held), key=lambda d: key_order(d.legacy_key))
    for difference in differences:
        difference.entity = mapping.name
    differences += v2_only
    differences_explain(mapping, differences)
    if repair:
        differences_repair(mapping, differences)
    _store(run, differences)
    entry = {
        "method": method,
        "columns": [c.name for c in mapping.columns],
        "v1_rows": stats.v1_rows + len(held),
        "held": len(held),  # of v1_rows: quarantined or merged, listed by key
        "v2_rows": stats.v2_rows,
        "ranges_compared": stats.ranges_compared,
        "levels": stats.levels,
        "row_ranges": stats.row_ranges,
        "rows_fetched": stats.rows_fetched,
        "queries": v1.queries + v2.queries + 1,  # + v1's key range
        "v2_only": len(v2_only),
        "differences": sum(not d.explained for d in differences),
        "explained": sum(d.explained for d in differences),
        "repaired": sum(d.repaired for d in differences),
        "unreported_ranges": stats.unreported_ranges,
        "seconds": round(time.perf_counter() - started, 3),
    }
    if isinstance(v2, SqlSide) and v2.misplaced_ids:
        entry["misplaced_ids"] = v2.misplaced_ids
    return entry


def _with_held(differences: list[Difference], held: list[Difference]) -> list[Difference]:
    """The bisection's differences and the held rows. A held row that v2 has all the same
    (conservation broken) is one mismatch, never explained, not two contradicting rows."""
    in_v2 = {d.legacy_key: d for d in differences if d.kind == DifferenceKind.MISSING_IN_V1}
    merged = list(differences)
    for row in held:
        twin = in_v2.get(row.legacy_key)
        if twin is None:
            merged.append(row)
            continue
        twin.kind, twin.v1_values = DifferenceKind.MISMATCH, row.v1_values
        twin.extra["held"] = True
        twin.explanation = "v1's row is held in quarantine, yet v2 has it"
    return merged


def _store(run: ReconciliationRun, differences: list[Difference]) -> None:
    ReconciliationDifference.objects.bulk_create(
        (
            ReconciliationDifference(
                run=run,
                entity=d.entity,
                legacy_key=d.legacy_key[:96],
                kind=d.kind,
                explained=d.explained,
                explanation=d.explanation[:200],
                v1_values=d.v1_values,
                v2_values=d.v2_values,
                repaired=d.repaired,
            )
            for d in differences
        ),
        batch_size=1_000,
    )
