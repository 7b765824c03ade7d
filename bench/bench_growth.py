"""Growth (issue 19): the learner's hot path as the attempts table grows tenfold.

A v1 database is generated with the legacy fixture at the first stage's size (default 1M
attempts, 10k learners; dirty, as bench_backfill's) and backfilled into v2 on PostgreSQL. The
same two databases then grow to the next stage (default 10M attempts, 100k learners): the
fixture appends clean v1 rows with ids above the existing ones (legacy_fixture_extend: new
learners with their sessions, attempts, review cards...), and the backfill runs again, which
resumes from its keyset checkpoints and reads only the new rows (checked: every entity's
``rows_seen`` equals its v1 row count after each run, so no row was read twice).

At each stage, through gunicorn (production settings, DEBUG off) on PostgreSQL with Redis as
cache, one request at a time, the endpoints take turns request by request for a fixed sample
of migrated learners (the heaviest histories and a seeded random draw, chosen at the first
stage and kept, so each stage serves the same learners):

    GET /api/v1/scheduler/next/ p50/p99    POST /api/v1/attempts/ p50/p99
    GET /api/v1/progress/ p99              GET /api/v1/progress/statistics/ p99
    GET /healthz p99 (the same-run baseline: what the machine's noise alone costs)

plus the size on disk: the attempts table with its indexes and TOAST (every partition's, from
pg_partition_tree, when it is partitioned) and the whole database. Each stage prints a
table; then the ratio of the last stage to the first for each figure, flagged over 1.5×. The
last line is one JSON object: {"stages": {...}, "ratios": {...}, "healthz_p99_ms": {...},
"phases": {...}}.

Knobs (environment):
    GROWTH_STAGES=1000000,10000000   attempts at each stage (increasing)
    GROWTH_QUICK=1                   100k then 1M (a smoke run of a few minutes)
    GROWTH_ATTEMPTS_PER_LEARNER=100  learners = attempts / this
    GROWTH_ATTEMPTS_PER_SESSION=7    v1 sessions = attempts / this (the seed's ratio)
    GROWTH_SAMPLE=40                 learners measured (a quarter of them the heaviest)
    GROWTH_ROUNDS=400                requests per endpoint per stage (after a warm-up pass)
    GROWTH_WORKERS=2                 gunicorn sync workers
    GROWTH_REDIS_URL=redis://127.0.0.1:6379/9
    GROWTH_KEEP=1                    keep the scratch databases (names printed)
and BENCH_PG_SERVER, BENCH_DB_PREFIX, BENCH_PORT as in bench/_common.py.

Run: .venv/bin/python bench/bench_growth.py  (the full run takes about an hour on two cores;
nohup it and follow var/: the log says which phase runs and for how long)
"""

import itertools
import json
import os
import random
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
import uuid

import _common as common  # first: it puts the project root on sys.path
import psycopg

QUICK = os.environ.get("GROWTH_QUICK") == "1"
STAGES = [
    int(n)
    for n in os.environ.get(
        "GROWTH_STAGES", "100000,1000000" if QUICK else "1000000,10000000"
    ).split(",")
]
PER_LEARNER = int(os.environ.get("GROWTH_ATTEMPTS_PER_LEARNER", "100"))
PER_SESSION = int(os.environ.get("GROWTH_ATTEMPTS_PER_SESSION", "7"))
SAMPLE = int(os.environ.get("GROWTH_SAMPLE", "40"))
ROUNDS = int(os.environ.get("GROWTH_ROUNDS", "200" if QUICK else "400"))
WORKERS = int(os.environ.get("GROWTH_WORKERS", "2"))
REDIS_URL = os.environ.get("GROWTH_REDIS_URL", "redis://127.0.0.1:6379/9")
KEEP = os.environ.get("GROWTH_KEEP") == "1"
FLAT = 1.5  # the bound on last stage / first stage
BITS, SEED = 500, 7

RUN = uuid.uuid4().hex[:8]
NEW, LEGACY = common.scratch_pair("growth", RUN)
NAMESPACE = f"growth-{RUN}"  # the cache's key prefix and the Celery queue
JSON_DIR = common.ROOT / "var" / f"bench_growth_{RUN}"
STARTED = time.perf_counter()
PHASES: dict[str, dict] = {}

# The bench process (picking learners, minting tokens, sizes) and gunicorn share one
# environment: the production settings, as bench/load runs them.
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings.production",
    DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
    DJANGO_SERVE_LOCAL_MEDIA="true",
    DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
    DATABASE_URL=f"{common.SERVER}/{NEW}",
    LEGACY_DATABASE_URL=f"{common.SERVER}/{LEGACY}",
    REDIS_URL=REDIS_URL,
    CACHE_KEY_PREFIX=NAMESPACE,
    CELERY_QUEUE=NAMESPACE,
    LEGACY_PULL_QUEUE=NAMESPACE,
    JWT_ACCESS_MINUTES="600",  # minted at the first stage, used at the last
    LOG_LEVEL="WARNING",
)
# The management commands: dev settings, eager Celery (as bench_backfill runs the backfill).
COMMAND_ENV = common.django_env(NEW, LEGACY)


def say(text: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.0f} s] {text}", flush=True)


def phase(name: str, argv_or_fn, *, label: str) -> subprocess.CompletedProcess:
    """Run a management command (a list of arguments) under /usr/bin/time; record its
    duration and peak RSS under ``name``."""
    say(f"{label} ...")
    started = time.perf_counter()
    result = common.manage(*argv_or_fn, env=COMMAND_ENV, peak_rss=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n", file=sys.stderr)
        raise RuntimeError(f"{label} failed (exit {result.returncode})")
    rss = common.peak_rss_mb(result.stderr)
    PHASES[name] = {"seconds": round(seconds, 1), "peak_rss_mb": round(rss)}
    say(f"{label}: {seconds:.0f} s, peak RSS {rss:.0f} MB")
    return result


def fixture_extend(name: str, *, users: int, sessions: int, attempts: int, seed: int) -> None:
    """legacy_fixture_extend in a subprocess (no command carries it), timed like a phase."""
    script = (
        "import django; django.setup()\n"
        "from apps.legacy_sync.v1.fixture import legacy_fixture_extend\n"
        f"report = legacy_fixture_extend(users={users}, sessions={sessions}, "
        f"attempts={attempts}, seed={seed})\n"
        "print(report.counts)\n"
    )
    label = f"fixture: append {users:,} learners, {sessions:,} sessions, {attempts:,} attempts"
    say(f"{label} ...")
    started = time.perf_counter()
    result = subprocess.run(  # noqa: S603
        ["/usr/bin/time", "-f", "MAXRSS_KB=%M", sys.executable, "-c", script],
        cwd=common.ROOT, env=COMMAND_ENV, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], sep="\n", file=sys.stderr)
        raise RuntimeError(f"{label} failed (exit {result.returncode})")
    rss = common.peak_rss_mb(result.stderr)
    PHASES[name] = {"seconds": round(seconds, 1), "peak_rss_mb": round(rss)}
    say(f"{label}: {seconds:.0f} s, peak RSS {rss:.0f} MB")


def backfill(name: str) -> dict:
    """The backfill (incremental after the first run); returns {entity: rows/s} and checks
    that every entity's checkpoints saw each v1 row exactly once."""
    result = phase(name, ["legacy_backfill", "--json-dir", str(JSON_DIR), "--batch-size",
                          "20000"], label="backfill")  # fmt: skip
    rates = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[1].replace(",", "").isdigit() and "rows/s)" in line:
            rates[parts[0]] = float(line.rsplit("(", 1)[1].split()[0].replace(",", ""))
    seen = common.checkpoint_rows_seen(NEW)
    legacy = {
        "attempts": common.scalar(LEGACY, "SELECT COUNT(*) FROM attempts"),
        "sessions": common.scalar(LEGACY, "SELECT COUNT(*) FROM sessions"),
        "users": common.scalar(LEGACY, "SELECT COUNT(*) FROM users"),
    }
    once = {entity: seen.get(entity) == count for entity, count in legacy.items()}
    PHASES[name] |= {"attempts_rows_per_s": rates.get("attempts"), "each_row_read_once": once}
    say(f"backfill: attempts {rates.get('attempts', 0):,.0f} rows/s, learner states "
        f"{rates.get('learner_states', 0):,.0f}/s; rows seen once per v1 row: {once}")  # fmt: skip
    if not all(once.values()):
        raise RuntimeError(f"the backfill read rows more than once or missed some: {seen}")
    return rates


# --- what is measured --------------------------------------------------------------------


def sample_learners() -> list[dict]:
    """SAMPLE migrated learners with attempts: the heaviest quarter, the rest drawn (seeded)
    from the others; each with a JWT, the course of most of their attempts, and a flashcard
    atom of that course to answer."""
    from django.db import connection
    from django.db.models import Count
    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.accounts.models import User
    from apps.content.models import LearningAtom
    from apps.learning.models import Attempt

    table = Attempt._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT learner_id, COUNT(*) FROM {table} GROUP BY learner_id "  # noqa: S608
            "ORDER BY COUNT(*) DESC, learner_id"
        )
        counts = cursor.fetchall()
    heavy = counts[: SAMPLE // 4]
    drawn = random.Random(SEED).sample(counts[SAMPLE // 4 :], SAMPLE - len(heavy))
    learners = []
    for learner_id, attempts in [*heavy, *drawn]:
        course = (
            Attempt.objects.filter(learner_id=learner_id)
            .values("atom__concept_weights__concept__course")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()["atom__concept_weights__concept__course"]
        )
        atoms = list(
            LearningAtom.objects.filter(
                atom_type="flashcard", status="published",
                concept_weights__concept__course=course,
            ).order_by("pk").values_list("pk", flat=True)[:50]
        )  # fmt: skip
        user = User.objects.get(pk=learner_id)
        learners.append({
            "id": str(learner_id), "attempts": attempts, "heavy": len(learners) < len(heavy),
            "course": str(course), "atoms": [str(a) for a in atoms],
            "token": str(RefreshToken.for_user(user).access_token),
        })  # fmt: skip
    return learners


def sizes() -> dict:
    """The attempts table on disk (with indexes and TOAST; every partition's when it is
    partitioned), its rows, and the whole database."""
    from apps.learning.models import Attempt

    table = Attempt._meta.db_table
    with psycopg.connect(f"{common.SERVER}/{NEW}") as conn:
        kind = conn.execute("SELECT relkind FROM pg_class WHERE oid = %s::regclass",
                            [table]).fetchone()[0]  # fmt: skip
        largest = ("", 0)
        if kind == "p":
            # The partitioned table's indexes are partitioned too: their leaves are counted
            # with each partition's pg_total_relation_size.
            leaves = conn.execute(
                "SELECT relid::text, pg_total_relation_size(relid) "
                "FROM pg_partition_tree(%s::regclass) WHERE isleaf ORDER BY 2 DESC",
                [table],
            ).fetchall()
            attempts_bytes, partitions = sum(size for _, size in leaves), len(leaves)
            largest = leaves[0] if leaves else largest
        else:
            attempts_bytes = conn.execute("SELECT pg_total_relation_size(%s::regclass)",
                                          [table]).fetchone()[0]  # fmt: skip
            partitions = 0
        rows = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
        database = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return {
        "attempt_rows": rows,
        "attempts_mb": round(attempts_bytes / 2**20, 1),
        "attempts_bytes_per_row": round(attempts_bytes / max(rows, 1), 1),
        "attempt_partitions": partitions,
        "attempt_largest_partition": largest[0],
        "attempt_largest_partition_mb": round(largest[1] / 2**20, 1),
        "database_mb": round(database / 2**20, 1),
    }


def measure(learners: list[dict]) -> dict:
    """The endpoints through gunicorn, one request at a time, taking turns request by
    request, each round a different sample learner; a first pass over every learner and
    endpoint is the warm-up (per-process caches, the learner's pages) and is not counted."""
    base = f"http://127.0.0.1:{common.PORT}"

    def call(path: str, learner: dict | None, body: dict | None = None) -> float:
        headers = {"X-Forwarded-Proto": "https", "Accept": "application/json"}
        if learner:
            headers["Authorization"] = f"Bearer {learner['token']}"
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        request = urllib.request.Request(base + path, data=data, headers=headers)  # noqa: S310
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{path}: HTTP {exc.code} {exc.read()[:300]!r}") from None
        return (time.perf_counter() - started) * 1000

    def attempt(learner: dict, n: int) -> dict:
        return {"client_attempt_id": str(uuid.uuid4()),
                "atom": learner["atoms"][n % len(learner["atoms"])],
                "response": {"quality": 4 if n % 3 else 1}, "time_taken_ms": 3000}  # fmt: skip

    calls = {
        "healthz": lambda learner, n: call("/healthz", None),
        "next": lambda learner, n: call(
            f"/api/v1/scheduler/next/?course={learner['course']}&limit=10", learner
        ),
        "attempt": lambda learner, n: call("/api/v1/attempts/", learner, attempt(learner, n)),
        "progress": lambda learner, n: call("/api/v1/progress/", learner),
        "statistics": lambda learner, n: call("/api/v1/progress/statistics/", learner),
    }
    env = os.environ | common.NO_THROTTLE
    server = common.gunicorn_start(common.PORT, workers=WORKERS, env=env)
    samples: dict = {name: [] for name in calls}
    try:
        for n, learner in enumerate(learners * WORKERS):  # each worker process sees each one
            for fn in calls.values():
                fn(learner, n)
        for n in range(ROUNDS):
            learner = learners[n % len(learners)]
            for name, fn in calls.items():
                samples[name].append(fn(learner, n))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    figures = {}
    for name, values in samples.items():
        figures[f"{name}_p50_ms"] = round(common.percentile(values, 0.5), 2)
        figures[f"{name}_p99_ms"] = round(common.percentile(values, 0.99), 2)
    figures["requests_per_endpoint"] = ROUNDS
    return figures


def stage_measure(label: str, learners: list[dict]) -> dict:
    say(
        f"stage {label}: VACUUM ANALYZE (settled, as autovacuum leaves a table after a bulk load; "
        "so it does not run during the measurement) ..."
    )
    started = time.perf_counter()
    with psycopg.connect(f"{common.SERVER}/{NEW}", autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    PHASES[f"vacuum_{label}"] = {"seconds": round(time.perf_counter() - started, 1)}
    say(f"stage {label}: VACUUM ANALYZE {PHASES[f'vacuum_{label}']['seconds']:.0f} s; sizes ...")
    # Other work may add migrations to this tree while a long run goes on: the server that is
    # about to start must find the schema its code expects.
    phase(f"migrate_{label}", ["migrate", "--noinput"], label="migrate v2 (catch up)")
    figures = sizes()
    figures["load_average_before"] = round(os.getloadavg()[0], 2)
    say(f"stage {label}: HTTP, {len(learners)} learners × 5 endpoints, {ROUNDS} rounds ...")
    started = time.perf_counter()
    figures |= measure(learners)
    figures["load_average_after"] = round(os.getloadavg()[0], 2)  # 1 min: the machine is shared
    PHASES[f"measure_{label}"] = {"seconds": round(time.perf_counter() - started, 1)}
    from apps.accounts.models import User

    figures["learners"] = User.objects.count()
    stage_print(label, figures)
    return figures


ROWS = (
    ("GET /scheduler/next/", "next"),
    ("POST /attempts/", "attempt"),
    ("GET /progress/", "progress"),
    ("GET /progress/statistics/", "statistics"),
    ("baseline: GET /healthz", "healthz"),
)


def stage_print(label: str, figures: dict) -> None:
    print(f"\nstage {label}: {figures['attempt_rows']:,} attempts, {figures['learners']:,} users; "
          f"attempts table {figures['attempts_mb']:,.0f} MB "
          f"({figures['attempts_bytes_per_row']:.0f} B/row, "
          f"{figures['attempt_partitions']} partitions, the largest "
          f"{figures['attempt_largest_partition'] or '-'} "
          f"{figures['attempt_largest_partition_mb']:,.0f} MB), database "
          f"{figures['database_mb']:,.0f} MB; load average {figures['load_average_before']} "
          f"before, {figures['load_average_after']} after")  # fmt: skip
    for title, key in ROWS:
        p50, p99 = figures[f"{key}_p50_ms"], figures[f"{key}_p99_ms"]
        print(f"  {title:<30} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
    print(flush=True)


RATIO_KEYS = (
    "next_p50_ms", "next_p99_ms", "attempt_p50_ms", "attempt_p99_ms", "progress_p99_ms",
    "statistics_p99_ms", "healthz_p99_ms", "attempts_bytes_per_row",
)  # fmt: skip


def ratios_print(first: str, last: str, stages: dict) -> dict:
    ratios = {
        key: round(stages[last][key] / stages[first][key], 2)
        for key in RATIO_KEYS
        if stages[first][key]
    }
    print(
        f"ratio {last} / {first} (flat: ≤ {FLAT}×; the size per row should stay flat, the "
        "latencies too)"
    )
    for key, ratio in ratios.items():
        flag = "  OVER 1.5×" if ratio > FLAT else ""
        print(f"  {key:<26} {stages[first][key]:>9} → {stages[last][key]:>9}   {ratio:5.2f}×{flag}")
    print(flush=True)
    return ratios


def label_of(attempts: int) -> str:
    return f"{attempts // 1_000_000}M" if attempts % 1_000_000 == 0 else f"{attempts // 1000}k"


def redis_clean() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"*{NAMESPACE}*", count=1000):
        client.delete(key)


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` cleans up
    if len(STAGES) < 2 or any(b <= a for a, b in itertools.pairwise(STAGES)):
        sys.exit("GROWTH_STAGES: at least two sizes, increasing")
    say(f"run {RUN}: stages {', '.join(label_of(n) for n in STAGES)} attempts, "
        f"{PER_LEARNER} attempts per learner; databases {NEW}, {LEGACY}; "
        f"gunicorn {WORKERS} workers, production settings, Redis {REDIS_URL}")  # fmt: skip
    stages: dict = {}
    figures: dict = {"stages": stages, "phases": PHASES, "error": "interrupted"}
    try:
        common.databases_create(NEW, LEGACY)
        phase("migrate", ["migrate", "--noinput"], label="migrate v2")
        import django

        django.setup()
        learners, users, sessions, attempts = None, 0, 0, 0
        for number, target in enumerate(STAGES):
            label = label_of(target)
            grow = (target // PER_LEARNER - users, target // PER_SESSION - sessions,
                    target - attempts)  # fmt: skip
            if number == 0:
                phase(f"fixture_{label}", ["legacy_make_fixture", "--users", str(grow[0]),
                      "--sessions", str(grow[1]), "--attempts", str(grow[2]), "--bits",
                      str(BITS), "--seed", str(SEED), "--dirty", "--json-dir", str(JSON_DIR)],
                      label=f"fixture: {grow[0]:,} learners, {grow[1]:,} sessions, "
                            f"{grow[2]:,} attempts (dirty)")  # fmt: skip
            else:
                fixture_extend(f"fixture_{label}", users=grow[0], sessions=grow[1],
                               attempts=grow[2], seed=SEED + number)  # fmt: skip
            users, sessions, attempts = users + grow[0], sessions + grow[1], target
            backfill(f"backfill_{label}")
            common.connections_close()
            if learners is None:
                say("picking the sample learners, minting their tokens ...")
                learners = sample_learners()
                heaviest = max(learner["attempts"] for learner in learners)
                say(f"{len(learners)} learners, {heaviest:,} attempts for the heaviest")
            stages[label] = stage_measure(label, learners)
            stages[label]["phases"] = {k: v for k, v in PHASES.items() if k.endswith(label)}
            common.connections_close()
        first, last = label_of(STAGES[0]), label_of(STAGES[-1])
        ratios = ratios_print(first, last, stages)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        say(f"done; this process's peak RSS {peak:.0f} MB")
        figures = {
            "stages": stages,
            "ratios": ratios,
            "flat": all(v <= FLAT for k, v in ratios.items() if k != "healthz_p99_ms"),
            "healthz_p99_ms": {label: s["healthz_p99_ms"] for label, s in stages.items()},
            "phases": PHASES,
            "sample_learners": len(learners),
            "sample_heaviest_attempts": max(learner["attempts"] for learner in learners),
        }
    except BaseException as exc:  # reported, cleaned up, then the exit status says it
        traceback.print_exc()
        figures["error"] = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        common.connections_close()
        if KEEP:
            say(f"kept {NEW} and {LEGACY}")
        else:
            common.databases_drop(NEW, LEGACY)
        shutil.rmtree(JSON_DIR, ignore_errors=True)
        try:
            redis_clean()
        except Exception as exc:  # cleaning up: say it and go on
            print(f"Redis clean-up failed: {exc}", file=sys.stderr)
        # The last line: the figures, for tracking (what was measured, on a failure too).
        print(json.dumps(figures, default=str), flush=True)
    if "error" in figures:
        sys.exit(1)


if __name__ == "__main__":
    main()
