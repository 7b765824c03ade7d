from celery import shared_task

from apps.core.dispatch import RETRY_ON_TRANSIENT, TRANSIENT_ERRORS


@shared_task(
    name="legacy_sync.backfill_range", bind=True, acks_late=True, ignore_result=True,
    **RETRY_ON_TRANSIENT,
)  # fmt: skip
def backfill_range_task(
    self, *, run_id: int, entity: str, range_start: str, until: str | None, batch_size: int,
    json_dir: str | None = None, **kwargs,
) -> None:  # fmt: skip
    """Backfill one key range of one entity. Idempotent and resumable: it continues from the
    range's checkpoint, so a redelivered or retried task repeats nothing. The run is marked
    failed only when the range cannot go on: a bug, or a transient error out of retries."""
    from .backfill.runner import entity_range_backfill, stages_build

    try:
        entity_range_backfill(
            stages_build(json_dir=json_dir)[entity],
            batch_size=batch_size,
            range_start=range_start,
            until=until,
        )
    except TRANSIENT_ERRORS:
        if self.request.retries < self.max_retries:
            raise  # retried from the checkpoint, with backoff
        _range_failed(run_id, entity, range_start, "out of retries")
        raise
    except Exception as exc:
        _range_failed(run_id, entity, range_start, exc)
        raise


def _range_failed(run_id: int, entity: str, range_start: str, why) -> None:
    from .models import BackfillRun, BackfillStatus

    BackfillRun.objects.filter(pk=run_id).update(
        status=BackfillStatus.FAILED, failure=f"{entity} after {range_start!r}: {why}"
    )


@shared_task(name="legacy_sync.backfill_start", ignore_result=True, **RETRY_ON_TRANSIENT)
def backfill_start_task(**kwargs) -> None:
    """A whole backfill started from the admin, in one worker (legacy_backfill's default run;
    v1's JSON files from settings.LEGACY_JSON_DIR). Not acks_late: a redelivery would start a
    second run; a killed run is resumed by starting again, from the checkpoints, which is what
    a retry after a transient error does."""
    from django.conf import settings

    from .backfill.runner import backfill_run

    backfill_run(json_dir=settings.LEGACY_JSON_DIR)


# --- Live sync. Every task is idempotent (acks_late is safe) and cheap when there is nothing
# to do, so the beat can run them often; the flags' kill switch makes them return at once.


@shared_task(
    name="legacy_sync.outbox_drain", acks_late=True, ignore_result=True, **RETRY_ON_TRANSIENT
)
def outbox_drain_task(**kwargs) -> None:
    """Push pending outbox entries to v1. Also the sweeper: the beat runs it every few
    seconds, so entries whose message was lost (a broker restart) still go out, and a v1
    outage is retried there (the task fails visibly; the entries keep their tries). Failed
    entries back off on their own (2^tries seconds) until they are dead. A redelivery is
    another drain: claims keep drains apart, and every v1 write is an upsert on a fixed id."""
    from django.core.cache import cache

    from .live.flags import sync_flags
    from .live.outbox import DRAIN_QUEUED_KEY
    from .live.outbox.push import outbox_drain

    cache.delete(DRAIN_QUEUED_KEY)
    if sync_flags().kill_switch:
        return
    outbox_drain()


@shared_task(name="legacy_sync.pull", acks_late=True, ignore_result=True, **RETRY_ON_TRANSIENT)
def legacy_pull_task(**kwargs) -> None:
    """One pull of new v1 rows. Pulls never overlap (a cache lock shared with the listener,
    live/listen.py): a pull after a burst can take longer than the beat's interval. A
    redelivery pulls from the checkpoints: rows already pulled are known and skipped."""
    from .live.pull import legacy_pull_locked

    legacy_pull_locked()


@shared_task(
    name="legacy_sync.reconcile_nightly", acks_late=True, ignore_result=True, **RETRY_ON_TRANSIENT
)
def reconcile_nightly_task(**kwargs) -> None:
    """The nightly comparison of v1 with v2 (beat, 03:00 UTC). Read-only: differences are
    recorded for staff (status pages, admin), repairs are theirs to start (legacy_reconcile
    --repair). A redelivery only records a second run."""
    from .reconcile import reconcile_nightly

    reconcile_nightly()


@shared_task(name="legacy_sync.shadow_compare", ignore_result=True, **RETRY_ON_TRANSIENT)
def shadow_compare_task(learner_id: str, v1_answer: dict, **kwargs) -> None:
    """Compare v2's progress answer with the one v1 served (a sampled shadow read) and record
    it. A redelivery records a second comparison, which only weighs that read twice."""
    from apps.accounts.models import User

    from .live.progress_reads import shadow_compare

    learner = User.objects.filter(pk=learner_id).first()
    if learner is not None:
        shadow_compare(learner, v1_answer)
