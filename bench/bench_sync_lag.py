"""Dual-write lag on PostgreSQL with real Celery workers (issues 8 and 19), both directions:

- v2 → v1: learners answer through the attempt service at RATE attempts/s; the lag of each
  write is its outbox entry's sent_at − created_at (sent_at is stamped after v1 committed);
- v1 → v2: v1 inserts attempts at V1_RATE rows/s meanwhile (150/s: the load issue 19 sets for
  the pull); the lag of each is the pulled v2 row's created_at − the v1 insert's commit time.

The pull runs in each of BENCH_MODES, one after the other on the same databases, each for
BENCH_SECONDS under the same load (the second mode meets longer histories, so the order is
conservative for it):
- ``poll``: the old way, the baseline: a beat sends ``legacy_sync.pull`` every PULL_INTERVAL
  (0.5 s) to a Celery worker of its own (concurrency 1, LEGACY_PULL_QUEUE);
- ``listen``: ``manage.py legacy_pull_listen``, woken by v1's NOTIFY trigger (no beat).

Also in the same run: the attempt service's own rate with dual write off (what the outbox
costs a learner's write). Target: v1 → v2 p99 < 2 s. Creates and drops scratch databases.
The last line is the figures as JSON, the poll mode's as the baseline.
Run: .venv/bin/python bench/bench_sync_lag.py  (BENCH_SECONDS, BENCH_RATE, BENCH_V1_RATE,
BENCH_MODES=poll,listen)
"""

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

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
RATE = float(os.environ.get("BENCH_RATE", "50"))
V1_RATE = float(os.environ.get("BENCH_V1_RATE", "150"))
MODES = os.environ.get("BENCH_MODES", "poll,listen").split(",")
PULL_INTERVAL = 0.5
WRITE_FAILURES = [0]  # learners' v2 writes that raised, over the run
DRAIN_S = 8.0  # after the load: the tail still arriving counts, later ones are "not pulled"

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
        run_modes()
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
    counts = [results.get(timeout=seconds + 120) for _ in children]
    for child in children:
        child.join()
    WRITE_FAILURES[0] += sum(failed for _, failed in counts)
    return sum(done for done, _ in counts), seconds


def _writer(index: int, rate: float, seconds: float, results) -> None:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from apps.accounts.models import User
    from apps.content.models import LearningAtom
    from apps.learning.services.attempts import AttemptInput, attempts_ingest

    learners = list(User.objects.filter(origin="legacy").order_by("pk")[index::WRITERS][:100])
    cards = list(LearningAtom.objects.filter(legacy_key__startswith="bit:")[:100])
    done, failed, start = 0, 0, time.monotonic()
    while (elapsed := time.monotonic() - start) < seconds:
        if done > elapsed * rate:
            time.sleep(0.001)
            continue
        learner, card = learners[done % len(learners)], cards[(done * 7) % len(cards)]
        try:
            attempts_ingest(
                learner=learner,
                inputs=[
                    AttemptInput(
                        client_attempt_id=uuid.uuid4(), atom_id=card.pk, response={"quality": 4}
                    )
                ],
            )
        except Exception as exc:  # counted and shown, never a hung bench
            failed += 1
            print(f"writer {index}: a learner's write failed: {exc!r}"[:300], flush=True)
        done += 1
    results.put((done, failed))


def run_modes() -> None:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from apps.legacy_sync.live.flags import sync_flags_update

    # Baseline: the learner write path alone, flat out, dual write off, same writer processes.
    sync_flags_update(dual_write=False)
    base_n, base_s = answer_in_processes(10_000, 5)
    flat_out = base_n / base_s
    print(f"baseline (dual write off, flat out, {WRITERS} writer processes): "
          f"{flat_out:,.0f} attempts/s")  # fmt: skip
    sync_flags_update(dual_write=True)
    time.sleep(1.5)  # the flag cache
    figures = {mode: run_load(mode, flat_out) for mode in MODES}
    # The listener's figures, the old polling's as the baseline, whatever order they ran in.
    main_mode = "listen" if "listen" in figures else MODES[-1]
    summary = dict(figures[main_mode])
    if others := [mode for mode in MODES if mode != main_mode]:
        summary["baseline"] = figures[others[0]]
    summary["order"] = MODES
    summary["flat_out_v2_attempts_per_s"] = round(flat_out, 1)
    print(f"target: v1 → v2 p99 < 2 s at {V1_RATE:g} v1 attempts/s")
    print(json.dumps(summary))


def listener_start() -> tuple[subprocess.Popen, object]:
    """``legacy_pull_listen`` in its own process, once it has made its first pull."""
    log_path = ROOT / "var" / f"bench_lag_{RUN}_listener.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "legacy_pull_listen"], cwd=ROOT, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while "Listening" not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the listener did not start:\n{log_path.read_text()}")
        time.sleep(0.2)
    time.sleep(2)  # its first (catch-up) pull
    return process, log


def _cpu_s(pid: int) -> float:
    """user + system CPU seconds of a process so far (Linux /proc)."""
    fields = (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1]).split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_load(mode: str, flat_out: float) -> dict:
    from django.db import connections

    from apps.accounts.models import User
    from apps.content.models import LearningAtom
    from apps.learning.models import Attempt
    from apps.legacy_sync.models import OutboxEntry, OutboxStatus
    from apps.legacy_sync.tasks import legacy_pull_task

    print(f"== pull mode: {mode}")
    learners = list(User.objects.filter(origin="legacy")[:200])
    cards = list(LearningAtom.objects.filter(legacy_key__startswith="bit:")[:100])
    first_outbox = OutboxEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    listener = listener_start() if mode == "listen" else None
    cpu_before = _cpu_s(listener[0].pid) if listener else 0.0

    stop = threading.Event()
    v1_commits: dict[int, float] = {}
    v1_span = [0.0]  # the v1 writer's own running time (it starts before the v2 writers)

    def v1_writer() -> None:
        with psycopg.connect(f"{SERVER}/{LEGACY}", autocommit=True) as conn:
            n, start = 0, time.monotonic()
            while not stop.is_set():
                v1_span[0] = time.monotonic() - start
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

    threads = [threading.Thread(target=v1_writer, daemon=True)]
    if mode == "poll":
        threads.append(threading.Thread(target=beat, daemon=True))
    for thread in threads:
        thread.start()
    failures_before = WRITE_FAILURES[0]
    try:
        n, seconds = answer_in_processes(RATE, SECONDS)
    finally:
        stop.set()
    for thread in threads:
        thread.join()
    time.sleep(DRAIN_S)  # let the tail drain
    pull_cpu = None
    if listener:
        pull_cpu = (_cpu_s(listener[0].pid) - cpu_before) / (v1_span[0] + DRAIN_S)
        listener[0].terminate()
        listener[0].wait(30)
        listener[1].close()
    connections.close_all()

    sent = OutboxEntry.objects.filter(
        pk__gt=first_outbox, entity="attempts", status=OutboxStatus.SENT
    )
    v2_lags = [(s - c).total_seconds() for c, s in sent.values_list("created_at", "sent_at")]
    pending = OutboxEntry.objects.filter(status=OutboxStatus.PENDING).count()
    pulled = dict(
        Attempt.objects.filter(
            origin="legacy", legacy_key__in=[str(k) for k in v1_commits]
        ).values_list("legacy_key", "created_at")
    )
    v1_lags = [pulled[str(k)].timestamp() - t for k, t in v1_commits.items() if str(k) in pulled]
    print(f"load: {n / seconds:,.0f} v2 attempts/s for {seconds:.0f} s "
          f"({n / seconds / flat_out:.2f} of the baseline's flat-out rate), "
          f"{len(v1_commits) / v1_span[0]:,.0f} v1 attempts/s; "
          f"{WRITE_FAILURES[0] - failures_before} v2 writes failed")  # fmt: skip
    print(
        f"v2 → v1 lag over {len(v2_lags):,} attempts: p50 {percentile(v2_lags, 0.5):.3f} s, "
        f"p99 {percentile(v2_lags, 0.99):.3f} s; still pending after the run: {pending}"
    )
    print(
        f"v1 → v2 lag over {len(v1_lags):,} of {len(v1_commits):,} v1 attempts: "
        f"p50 {percentile(v1_lags, 0.5):.3f} s, p99 {percentile(v1_lags, 0.99):.3f} s"
        + (f"; the listener used {pull_cpu:.0%} of a core" if pull_cpu is not None else "")
    )
    missing = len(v1_commits) - len(v1_lags)
    return {
        "mode": mode,
        "v1_to_v2_p99_s": round(percentile(v1_lags, 0.99), 3),
        "v1_to_v2_p50_s": round(percentile(v1_lags, 0.5), 3),
        "v1_to_v2_max_s": round(max(v1_lags, default=float("nan")), 3),
        # not pulled within DRAIN_S of the load's end: counted against the mode, not hidden
        "v1_not_pulled": missing,
        "rate": round(len(v1_commits) / v1_span[0], 1),
        "v2_rate": round(n / seconds, 1),
        "v2_to_v1_p99_s": round(percentile(v2_lags, 0.99), 3),
        "v2_to_v1_p50_s": round(percentile(v2_lags, 0.5), 3),
        "v2_write_failures": WRITE_FAILURES[0] - failures_before,
        "seconds": SECONDS,
        **({"pull_interval_s": PULL_INTERVAL} if mode == "poll" else {}),
        **({"listener_cpu_share": round(pull_cpu, 2)} if pull_cpu is not None else {}),
    }


if __name__ == "__main__":
    main()
