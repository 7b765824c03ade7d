"""Running the backfill: entity by entity, batch by batch, each batch committed with its
checkpoint, so a killed run resumes after the last committed batch and a second run finds
nothing left to do. ``--async`` runs the same range function in Celery workers."""

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from django.db import connection, connections, transaction
from django.db.models import F, Sum
from django.utils import timezone

from ..models import BackfillCheckpoint, BackfillRun, BackfillStatus, QuarantinedRow
from .entity import Entity
from .indexes import indexes_deferred, planner_statistics_refresh
from .json_files import user_data_folder
from .learner_states import LearnerStates
from .quarantine import quarantine_release, quarantine_store
from .registry import ENTITY_ORDER, entities_build

STAGES = (*ENTITY_ORDER, "learner_states")
DEFAULT_BATCH_SIZE = 20_000
POLL_SECONDS = 0.5

ProgressCallback = Callable[[str, int, int], None]  # (entity, rows seen, legacy total)


def stages_build(*, json_dir=None) -> dict[str, Entity]:
    return {**entities_build(json_dir=json_dir), "learner_states": LearnerStates()}


def stages_select(names: list[str] | None) -> list[str]:
    """The asked-for stages in dependency order; unknown names are an error."""
    if not names:
        return list(STAGES)
    unknown = sorted(set(names) - set(STAGES))
    if unknown:
        raise ValueError(f"Unknown entities: {', '.join(unknown)}. Known: {', '.join(STAGES)}.")
    return [name for name in STAGES if name in names]


def entity_range_backfill(
    entity: Entity,
    *,
    batch_size: int,
    range_start: str = "",
    until: str | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> None:
    """Backfill ``entity``'s keys in (range_start, until], resuming from its checkpoint."""
    checkpoint, _ = BackfillCheckpoint.objects.get_or_create(
        entity=entity.name, range_start=range_start
    )
    quarantined = set(
        QuarantinedRow.objects.filter(entity=entity.name).values_list("legacy_key", flat=True)
    )
    after = checkpoint.last_key or range_start
    for rows in pages_read_ahead(entity.pages(after=after, until=until, size=batch_size)):
        with transaction.atomic():
            _commit_without_waiting_for_disk()
            outcome = entity.migrate(rows)
            quarantine_store(entity.name, outcome.rejections)
            quarantine_release(entity.name, quarantined.intersection(outcome.migrated_keys))
            BackfillCheckpoint.objects.filter(pk=checkpoint.pk).update(
                last_key=entity.key_of(rows[-1]),
                rows_seen=F("rows_seen") + len(rows),
                finished=False,
            )
        if on_batch:
            on_batch(len(rows))
    BackfillCheckpoint.objects.filter(pk=checkpoint.pk).update(finished=True)


def pages_read_ahead(pages: Iterator[list[dict]]) -> Iterator[list[dict]]:
    """``pages``, each read by a thread while the caller maps and writes the one before: the
    v1 query and the decoding of its rows run on the other core. The thread has its own
    database connections (Django's are per thread), closed when the pages end; so while the
    caller holds a transaction open (whose rows another connection cannot see), no thread."""
    if any(connections[alias].in_atomic_block for alias in connections):
        yield from pages
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="backfill-read") as reader:
        try:
            page = reader.submit(next, pages, None)
            while (rows := page.result()) is not None:
                page = reader.submit(next, pages, None)
                yield rows
        finally:
            reader.submit(connections.close_all).result()


def _commit_without_waiting_for_disk() -> None:
    """A batch and its checkpoint commit together, so if a crash loses the last commits it
    loses both, and the next run redoes them: the flush to disk at each commit buys nothing."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def backfill_start() -> bool:
    """Queue a whole backfill for a worker (the admin's button); False while one runs."""
    from apps.core.dispatch import enqueue_on_commit

    from ..tasks import backfill_start_task

    if BackfillRun.objects.filter(status=BackfillStatus.RUNNING).exists():
        return False
    enqueue_on_commit(backfill_start_task)
    return True


def rows_seen(entity: str) -> int:
    total = BackfillCheckpoint.objects.filter(entity=entity).aggregate(n=Sum("rows_seen"))["n"]
    return total or 0


def backfill_run(
    *,
    names: list[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    json_dir=None,
    use_celery: bool = False,
    parts: int = 4,
    on_progress: ProgressCallback | None = None,
) -> BackfillRun:
    """Backfill the chosen stages in order and record the run for the status pages."""
    selected = stages_select(names)
    stages = stages_build(json_dir=json_dir)
    json_folder = user_data_folder(json_dir) if json_dir else None
    run = BackfillRun.objects.create(
        entities=selected,
        batch_size=batch_size,
        mode="async" if use_celery else "sync",
        json_dir=str(json_folder or ""),
    )
    try:
        for name in selected:
            entity = stages[name]
            legacy = entity.legacy_count()
            _progress_start(run, name, legacy)
            with indexes_deferred(*entity.bulk_models):
                if use_celery:
                    _run_in_workers(run, entity, batch_size, json_dir, parts, legacy, on_progress)
                else:

                    def batch_done(_: int, name=name, legacy=legacy) -> None:
                        seen = rows_seen(name)
                        _progress_update(run, name, seen)
                        if on_progress:
                            on_progress(name, seen, legacy)

                    entity_range_backfill(entity, batch_size=batch_size, on_batch=batch_done)
            _progress_finish(run, entity)
    except Exception as exc:
        run.status, run.failure = BackfillStatus.FAILED, f"{type(exc).__name__}: {exc}"
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "failure", "finished_at"])
        raise
    planner_statistics_refresh()  # the whole database: stages also write through the services
    run.status, run.finished_at = BackfillStatus.DONE, timezone.now()
    run.save(update_fields=["status", "finished_at"])
    return run


def _run_in_workers(run, entity, batch_size, json_dir, parts, legacy, on_progress) -> None:
    """Fan the entity's key ranges out to Celery and wait until every range has finished.

    Progress comes from the checkpoints the workers commit, so no result backend is needed.
    """
    from ..tasks import backfill_range_task

    ranges = entity.key_ranges(parts)
    starts = [start for start, _ in ranges]
    BackfillCheckpoint.objects.filter(entity=entity.name, range_start__in=starts).update(
        finished=False
    )
    for start, until in ranges:
        backfill_range_task.delay(
            run_id=run.pk, entity=entity.name, range_start=start, until=until,
            batch_size=batch_size, json_dir=str(json_dir) if json_dir else None,
        )  # fmt: skip
    while True:
        run.refresh_from_db(fields=["status", "failure"])
        if run.status == BackfillStatus.FAILED:
            raise RuntimeError(f"a worker failed: {run.failure}")
        seen = rows_seen(entity.name)
        _progress_update(run, entity.name, seen)
        if on_progress:
            on_progress(entity.name, seen, legacy)
        done = BackfillCheckpoint.objects.filter(
            entity=entity.name, range_start__in=starts, finished=True
        ).count()
        if done == len(starts):
            return
        time.sleep(POLL_SECONDS)


def _progress_start(run: BackfillRun, name: str, legacy: int) -> None:
    run.progress[name] = {
        "legacy": legacy,
        "seen_at_start": rows_seen(name),
        "seen": rows_seen(name),
        "started_at": timezone.now().isoformat(),
        "finished_at": None,
        "rate": 0.0,
    }
    run.save(update_fields=["progress"])


def _progress_update(run: BackfillRun, name: str, seen: int) -> None:
    entry = run.progress[name]
    started = timezone.datetime.fromisoformat(entry["started_at"])
    elapsed = max((timezone.now() - started).total_seconds(), 1e-3)
    entry["seen"] = seen
    entry["rate"] = round((seen - entry["seen_at_start"]) / elapsed, 1)
    BackfillRun.objects.filter(pk=run.pk).update(progress=run.progress)


def _progress_finish(run: BackfillRun, entity: Entity) -> None:
    entry = run.progress[entity.name]
    entry["finished_at"] = timezone.now().isoformat()
    entry["migrated"] = entity.migrated_count()
    entry["quarantined"] = QuarantinedRow.objects.filter(entity=entity.name).count()
    run.save(update_fields=["progress"])
