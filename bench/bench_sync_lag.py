"""Dual-write lag on PostgreSQL with a real Celery worker (issue 8), both directions at once:

- v2 → v1: learners answer through the attempt service at RATE attempts/s; the lag of each
  write is its outbox entry's sent_at − created_at (sent_at is stamped after v1 committed);
- v1 → v2: v1 inserts attempts at V1_RATE rows/s meanwhile; the lag of each is the pulled
  v2 row's created_at − the v1 insert's commit time. The pull runs as the beat runs it,
  every LEGACY_PULL_INTERVAL_S (0.5 s here).

Baseline in the same run: the attempt service's own rate with dual write off (what the
outbox costs a learner's write). Target: p99 < 2 s. Creates and drops scratch databases.
Run: .venv/bin/python bench/bench_sync_lag.py  (BENCH_SECONDS, BENCH_RATE to change the load)
"""

import os
import subprocess
import sys
import threading
import time
import uuid

import psycopg
from _common import (  # first: it puts the project root on sys.path
    ROOT,
    SERVER,
    databases_create,
    databases_drop,
    django_env,
    manage,
    percentile,
    scratch_pair,
)

from devtools.celery_worker import worker_start as celery_worker_start
from devtools.celery_worker import worker_stop

RUN = os.environ.setdefault("BENCH_LAG_RUN", uuid.uuid4().hex[:8])  # spawned writers share it
NEW, LEGACY = scratch_pair("lag", RUN)
QUEUE = f"bench-lag-{RUN}"
PULL_QUEUE = f"{QUEUE}-pull"
WRITERS = int(os.environ.get("BENCH_WRITERS", "3"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
RATE = float(os.environ.get("BENCH_RATE", "200"))
V1_RATE = float(os.environ.get("BENCH_V1_RATE", "50"))
PULL_INTERVAL = 0.5

# This process, its spawned writers, manage.py and the workers share one environment.
os.environ.update(
    django_env(
        NEW, LEGACY,
        redis_url=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        CELERY_QUEUE=QUEUE,
        LEGACY_PULL_QUEUE=PULL_QUEUE,
        LEGACY_JSON_DIR=str(ROOT / "var" / f"bench_lag_{RUN}"),
    )
)  # fmt: skip


def worker_start(queue: str) -> subprocess.Popen:
    """One prefork process at WARNING (quiet under load; it then does not log "ready.")."""
    log = ROOT / "var" / f"bench_lag_{RUN}_{queue}.log"
    return celery_worker_start(queue, log, concurrency=1, loglevel="WARNING", wait=False)


def main() -> None:
    databases_create(NEW, LEGACY, replace=True)
    workers = []
    try:
        manage("migrate", "--noinput")
        manage("legacy_make_fixture", "--users", "500", "--sessions", "3000", "--attempts",
               "20000", "--bits", "100", "--seed", "5")  # fmt: skip
        manage("legacy_backfill", "--entities", "users,chapters,bits,sessions,attempts")
        workers = [worker_start(QUEUE), worker_start(PULL_QUEUE)]  # the outbox's, the pull's
        time.sleep(6)  # the workers' start (they log nothing at WARNING)
        run_load()
    finally:
        for worker in workers:
            worker_stop(worker, timeout=30)
        databases_drop(NEW, LEGACY)


def answer_in_processes(rate: float, seconds: float) -> tuple[int, float]:
    """WRITERS forked processes answering at rate/WRITERS each; (answers, seconds)."""
    import multiprocessing

    from django.db import connections

    connections.close_all()
    # spawn, not fork: a forked child would share the parent's broker and database sockets
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    children = [context.Process(target=_writer, args=(i, rate / WRITERS, seconds, results))
                for i in range(WRITERS)]  # fmt: skip
    for child in children:
        child.start()
    counts = [results.get() for _ in children]
    for child in children:
        child.join()
    return sum(counts), seconds


def _writer(index: int, rate: float, seconds: float, results) -> None:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from apps.accounts.models import User
    from apps.content.models import LearningAtom
    from apps.learning.services.attempts import AttemptInput, attempts_ingest

    learners = list(User.objects.filter(origin="legacy").order_by("pk")[index::WRITERS][:100])
    cards = list(LearningAtom.objects.filter(legacy_key__startswith="bit:")[:100])
    done, start = 0, time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        if done > elapsed * rate:
            time.sleep(0.001)
            continue
        learner, card = learners[done % len(learners)], cards[(done * 7) % len(cards)]
        attempts_ingest(
            learner=learner,
            inputs=[
                AttemptInput(
                    client_attempt_id=uuid.uuid4(), atom_id=card.pk, response={"quality": 4}
                )
            ],
        )
        done += 1
    results.put(done)


def run_load() -> None:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.db import connections

    from apps.accounts.models import User
    from apps.content.models import LearningAtom
    from apps.learning.models import Attempt
    from apps.legacy_sync.live.flags import sync_flags_update
    from apps.legacy_sync.models import OutboxEntry, OutboxStatus
    from apps.legacy_sync.tasks import legacy_pull_task

    learners = list(User.objects.filter(origin="legacy")[:200])

    # Baseline: the learner write path alone, flat out, dual write off, same writer processes.
    sync_flags_update(dual_write=False)
    base_n, base_s = answer_in_processes(10_000, 5)
    print(f"baseline (dual write off, flat out, {WRITERS} writer processes): "
          f"{base_n / base_s:,.0f} attempts/s")  # fmt: skip
    sync_flags_update(dual_write=True)
    time.sleep(1.5)  # the flag cache
    cards = list(LearningAtom.objects.filter(legacy_key__startswith="bit:")[:100])

    stop = threading.Event()
    v1_commits: dict[int, float] = {}

    def v1_writer() -> None:
        with psycopg.connect(f"{SERVER}/{LEGACY}", autocommit=True) as conn:
            n, start = 0, time.monotonic()
            while not stop.is_set():
                if n > (time.monotonic() - start) * V1_RATE:
                    time.sleep(0.002)
                    continue
                learner, card = learners[n % len(learners)], cards[n % len(cards)]
                row = conn.execute(
                    "INSERT INTO attempts (user_id, bit_id, correct, user_answer, created_at) "
                    "VALUES (%s, %s, true, 'v1', now() at time zone 'utc') RETURNING id",
                    [int(learner.legacy_key), int(card.legacy_key[4:])],
                ).fetchone()
                v1_commits[row[0]] = time.time()
                n += 1

    def beat() -> None:
        while not stop.is_set():
            legacy_pull_task.delay()
            time.sleep(PULL_INTERVAL)

    # (the outbox's sweep is not needed here: every write queues its drain after commit)

    threads = [threading.Thread(target=v1_writer), threading.Thread(target=beat)]
    for thread in threads:
        thread.start()
    n, seconds = answer_in_processes(RATE, SECONDS)
    stop.set()
    for thread in threads:
        thread.join()
    time.sleep(5)  # let the tail drain
    connections.close_all()

    sent = OutboxEntry.objects.filter(entity="attempts", status=OutboxStatus.SENT)
    v2_lags = [(s - c).total_seconds() for c, s in sent.values_list("created_at", "sent_at")]
    pending = OutboxEntry.objects.filter(status=OutboxStatus.PENDING).count()
    pulled = dict(
        Attempt.objects.filter(
            origin="legacy", legacy_key__in=[str(k) for k in v1_commits]
        ).values_list("legacy_key", "created_at")
    )
    v1_lags = [pulled[str(k)].timestamp() - t for k, t in v1_commits.items() if str(k) in pulled]
    print(f"load: {n / seconds:,.0f} v2 attempts/s for {seconds:.0f} s "
          f"({n / seconds / (base_n / base_s):.2f} of the baseline's flat-out rate), "
          f"{len(v1_commits) / seconds:,.0f} v1 attempts/s")  # fmt: skip
    print(
        f"v2 → v1 lag over {len(v2_lags):,} attempts: p50 {percentile(v2_lags, 0.5):.3f} s, "
        f"p99 {percentile(v2_lags, 0.99):.3f} s; still pending after the run: {pending}"
    )
    print(
        f"v1 → v2 lag over {len(v1_lags):,} of {len(v1_commits):,} v1 attempts: "
        f"p50 {percentile(v1_lags, 0.5):.3f} s, p99 {percentile(v1_lags, 0.99):.3f} s"
    )
    print("target: p99 < 2 s both ways")


if __name__ == "__main__":
    main()
