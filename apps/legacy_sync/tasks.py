from celery import shared_task


@shared_task(name="legacy_sync.backfill_range", acks_late=True, ignore_result=True)
def backfill_range_task(
    *, run_id: int, entity: str, range_start: str, until: str | None, batch_size: int,
    json_dir: str | None = None, **kwargs,
) -> None:  # fmt: skip
    """Backfill one key range of one entity. Idempotent and resumable: it continues from the
    range's checkpoint, so a redelivered or retried task repeats nothing."""
    from .backfill.runner import entity_range_backfill, stages_build
    from .models import BackfillRun, BackfillStatus

    try:
        entity_range_backfill(
            stages_build(json_dir=json_dir)[entity],
            batch_size=batch_size,
            range_start=range_start,
            until=until,
        )
    except Exception as exc:
        BackfillRun.objects.filter(pk=run_id).update(
            status=BackfillStatus.FAILED, failure=f"{entity} after {range_start!r}: {exc}"
        )
        raise
