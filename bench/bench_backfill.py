"""Legacy backfill performance on PostgreSQL (issue 7), each figure next to a baseline from the
same run:

1. the whole backfill of a dirty seed-scale fixture (20k users, 450k sessions, 3.2M attempts,
   500 bits) in one process, with per-entity rates and the process's peak RSS;
2. the same with ``--async`` on a Celery worker with two processes (this machine's cores),
   with the per-entity counts compared with the one-process run;
3. the seed's row-by-row ORM approach (``migrate_attempt``: look the mapping up, save one
   attempt) on a 20k-attempt sample, with the ratio to the backfill's attempt rate;
4. a resume after SIGKILL halfway through the attempts, timed, with the counts compared.

BENCH_SCALE (default 1.0) shrinks the fixture for a quick look. Creates and drops scratch
databases. Run: .venv/bin/python bench/bench_backfill.py
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid

import psycopg
from _common import (  # first: it puts the project root on sys.path
    ROOT,
    SCALE,
    SERVER,
    databases_create,
    databases_drop,
    django_env,
    peak_rss_mb,
    scratch_pair,
)
from _common import manage as manage_run

from devtools.celery_worker import worker_start as celery_worker_start
from devtools.celery_worker import worker_stop

RUN = uuid.uuid4().hex[:8]
NEW, LEGACY = scratch_pair("backfill", RUN)
JSON_DIR = ROOT / "var" / f"bench_backfill_{RUN}"
SAMPLE = 20_000
QUEUE = f"bench-backfill-{RUN}"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def env(new_db: str = NEW, *, broker: bool = False) -> dict:
    """Eager Celery by default; with ``broker`` tasks go through Redis to the bench's worker."""
    return django_env(new_db, LEGACY, redis_url=REDIS if broker else "", CELERY_QUEUE=QUEUE)


def manage(*args: str, new_db: str = NEW, broker: bool = False) -> subprocess.CompletedProcess:
    """Run a management command under /usr/bin/time to read its peak RSS."""
    return manage_run(*args, env=env(new_db, broker=broker), peak_rss=True)


def worker_start(new_db: str) -> subprocess.Popen:
    """Two prefork processes (this machine's cores) on ``new_db``, once consuming."""
    log = JSON_DIR.parent / f"bench_backfill_{RUN}_worker.log"
    return celery_worker_start(QUEUE, log, env=env(new_db, broker=True), pool="prefork",
                               concurrency=2)  # fmt: skip


def entity_rates(stdout: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\w+)\s.*\(([\d,]+) rows/s\)", stdout, re.M))


def fresh_database(name: str) -> None:
    databases_create(name, replace=True)
    manage("migrate", "--noinput", new_db=name)


def attempts_checkpoint(new_db: str) -> int:
    with psycopg.connect(f"{SERVER}/{new_db}") as conn:
        row = conn.execute(
            "SELECT COALESCE(SUM(rows_seen), 0) FROM legacy_sync_backfillcheckpoint "
            "WHERE entity = 'attempts'"
        ).fetchone()
    return row[0]


def status(new_db: str) -> dict:
    out = manage("legacy_status", "--json", "--json-dir", str(JSON_DIR), new_db=new_db).stdout
    # Only the per-entity figures: the rest (outbox, generated_at) is not the data.
    return json.loads(out)["entities"]


def orm_baseline() -> float:
    """The seed's migrate_attempt: per v1 attempt, look up the bit's atom, the learner and the
    session through the ORM (by origin and legacy key, which the mapping index covers), then
    save one Attempt. Runs on the migrated database."""
    script = f"""
import time, django
django.setup()  # noqa: E402
from django.db import connections
from apps.accounts.models import User
from apps.content.models import LearningAtom
from apps.learning.models import Attempt, StudySession
from apps.legacy_sync.backfill.keys import legacy_uuid
with connections["legacy"].cursor() as cursor:
    cursor.execute("SELECT id, session_id, user_id, bit_id, correct, user_answer, created_at "
                   "FROM attempts ORDER BY id LIMIT {SAMPLE}")
    rows = cursor.fetchall()
Attempt.objects.filter(legacy_key__startswith="orm:").delete()
started = time.perf_counter()
for aid, sid, uid, bid, correct, answer, created in rows:
    atom = LearningAtom.objects.filter(origin="legacy", legacy_key=f"bit:{{bid}}").first()
    if atom is None:
        continue  # the seed's way: log and skip
    learner = User.objects.filter(origin="legacy", legacy_key=str(uid)).first()
    session = StudySession.objects.filter(origin="legacy", legacy_key=str(sid)).first()
    if learner is None or created is None:
        continue
    Attempt(learner=learner, atom=atom, revision_id=atom.published_revision_id, session=session,
            client_attempt_id=legacy_uuid("orm", aid), response={{"user_answer": answer}},
            correct=bool(correct), score=float(bool(correct)), quality=4 if correct else 1,
            answered_at=created.replace(tzinfo=__import__("datetime").UTC), origin="legacy",
            legacy_key=f"orm:{{aid}}").save()
elapsed = time.perf_counter() - started
Attempt.objects.filter(legacy_key__startswith="orm:").delete()
print(len(rows) / elapsed)
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env(), check=True,  # noqa: S603
                         capture_output=True, text=True)  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    users, sessions, attempts = (int(n * SCALE) for n in (20_000, 450_000, 3_200_000))
    databases_create(LEGACY)
    try:
        fresh_database(NEW)
        started = time.perf_counter()
        manage("legacy_make_fixture", "--users", str(users), "--sessions", str(sessions),
               "--attempts", str(attempts), "--bits", "500", "--seed", "7", "--dirty",
               "--json-dir", str(JSON_DIR))  # fmt: skip
        print(f"fixture: {users:,} users, {sessions:,} sessions, {attempts:,} attempts, "
              f"500 bits (dirty) in {time.perf_counter() - started:.0f} s")  # fmt: skip

        # 1. The whole backfill in one process.
        started = time.perf_counter()
        result = manage("legacy_backfill", "--json-dir", str(JSON_DIR), "--batch-size", "20000")
        total = time.perf_counter() - started
        rates = entity_rates(result.stdout)
        attempt_rate = float(rates["attempts"].replace(",", ""))
        print(f"\n1. backfill, one process: {total:.0f} s in all, "
              f"peak RSS {peak_rss_mb(result.stderr):.0f} MB")  # fmt: skip
        for name, rate in rates.items():
            print(f"   {name:<15} {rate:>10} rows/s")
        held = all(e["legacy"] == e["migrated"] + e["quarantined"] for e in status(NEW).values())
        print(f"   conservation holds for every entity: {held}")

        # 1b. Reconciliation of the same data (issue 8's target: < 60 s at seed scale).
        started = time.perf_counter()
        checked = manage_run("legacy_reconcile", "--json", env=env(NEW), check=False,
                             peak_rss=True)  # fmt: skip
        seconds = time.perf_counter() - started
        summary = json.loads(checked.stdout) if checked.stdout.strip().startswith("{") else {}
        print(f"   legacy_reconcile: {seconds:.0f} s, exit {checked.returncode}, unexplained "
              f"differences {summary.get('differences', '?')}, explained "
              f"{summary.get('explained', '?')}, "
              f"peak RSS {peak_rss_mb(checked.stderr):.0f} MB")  # fmt: skip

        # 2. The same through a two-process worker (--async).
        async_db = f"{NEW}_async"
        fresh_database(async_db)
        worker = worker_start(async_db)
        try:
            started = time.perf_counter()
            argv = ["legacy_backfill", "--json-dir", str(JSON_DIR), "--batch-size", "20000",
                    "--async", "--parts", "4"]  # fmt: skip
            result = manage(*argv, new_db=async_db, broker=True)
            total_async = time.perf_counter() - started
        finally:
            worker_stop(worker, timeout=60)
        rates_async = entity_rates(result.stdout)
        same = status(async_db) == status(NEW)
        print(f"\n2. backfill, --async on 2 worker processes: {total_async:.0f} s in all "
              f"({total / total_async:.2f}× the one-process run); attempts "
              f"{rates_async['attempts']} rows/s, learner_states {rates_async['learner_states']} "
              f"learners/s; same per-entity counts as the one-process run: {same}")  # fmt: skip
        databases_drop(async_db)

        # 3. The seed's row-by-row ORM loop, same data, same machine, same run.
        orm_rate = orm_baseline()
        ratio = attempt_rate / orm_rate
        print(f"\n3. row-by-row ORM baseline on {SAMPLE:,} attempts: {orm_rate:,.0f} rows/s; "
              f"backfill attempts {attempt_rate:,.0f} rows/s = {ratio:.1f}× faster")  # fmt: skip

        # 4. SIGKILL halfway through the attempts, then resume.
        resumed_db = f"{NEW}_resume"
        fresh_database(resumed_db)
        argv = [sys.executable, "manage.py", "legacy_backfill", "--json-dir", str(JSON_DIR),
                "--batch-size", "20000"]  # fmt: skip
        victim = subprocess.Popen(argv, cwd=ROOT, env=env(resumed_db),  # noqa: S603
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        while attempts_checkpoint(resumed_db) < attempts // 2 and victim.poll() is None:
            time.sleep(0.2)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        at_kill = attempts_checkpoint(resumed_db)
        started = time.perf_counter()
        manage("legacy_backfill", "--json-dir", str(JSON_DIR), "--batch-size", "20000",
               new_db=resumed_db)  # fmt: skip
        resume = time.perf_counter() - started
        same = status(resumed_db) == status(NEW)
        print(f"\n4. SIGKILL with {at_kill:,} of {attempts:,} attempts committed; the resume took "
              f"{resume:.0f} s (full run {total:.0f} s); same per-entity counts as the "
              f"uninterrupted run: {same}")  # fmt: skip
        databases_drop(resumed_db)
    finally:
        databases_drop(NEW, LEGACY)
        subprocess.run(["rm", "-rf", str(JSON_DIR)], check=False)  # noqa: S603, S607
        (JSON_DIR.parent / f"bench_backfill_{RUN}_worker.log").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
