"""Load: mixed learner traffic against the production stack (issue 9).

gunicorn (config.wsgi, production settings, DEBUG off, 4 sync workers) on PostgreSQL, Redis
as cache and Celery broker, and a Celery worker process. Each virtual learner is a distinct
learner with their own JWT, open study session and history (bench/load/seed.py). The traffic
is open loop: Poisson arrivals at a fixed mean rate (bench/load/traffic.py), 40% GET next
items, 40% POST attempts (idempotency keys; 5% are replays), 20% GET progress, stepped up
through LOAD_RATES, LOAD_STEP_S seconds a step. A step over the target runs once more (the
machine may be shared); two degraded rates in a row end the run.

Per step: the rate achieved, errors, p50/p95/p99 overall and p99 per endpoint, the CPU each
part used (and what else on the machine used) and the web workers' CPU per request. Reported:
**throughput at p99 < 100 ms** (the highest rate that held: p99 under LOAD_P99_MS, no errors)
and **the degradation point** (the first rate above it that did not). Baseline from the same
run: each endpoint and /healthz one request at a time (service time without queueing).

With LOAD_BASELINE=<git revision>, a second gunicorn serves that revision's code (git archive;
the same migrations required) on the same database, and every step runs against both,
alternating which goes first: a before/after in one run (it takes twice as long).

Creates scratch PostgreSQL databases, dropped at the end (also on failure or Ctrl-C); uses
Redis db 9 (LOAD_REDIS_URL) with keys and a queue named for the run, deleted at the end.

Run: .venv/bin/python bench/load                      (about 3 minutes)
     LOAD_QUICK=1 .venv/bin/python bench/load         (about 1 minute: 3 short steps)
     LOAD_BASELINE=HEAD .venv/bin/python bench/load   (the working tree against HEAD: 6 min)
LOAD_TREE=<git revision> serves that revision's code instead of the working tree (others'
uncommitted edits stay out of a before/after).
Knobs: LOAD_RATES=40,80,...,240  LOAD_STEP_S=10  LOAD_LEARNERS=200  LOAD_HISTORY=160 (past
attempts per learner, mean)  LOAD_WORKERS=4  LOAD_P99_MS=100  LOAD_PORT=8972
LOAD_BASELINE_WORKERS: the baseline's gunicorn workers (default LOAD_WORKERS), to compare
worker counts on one revision: LOAD_WORKERS=6 LOAD_BASELINE=HEAD LOAD_BASELINE_WORKERS=4.
LOAD_PROFILE=<rate>: py-spy records the gunicorn workers during that step (if installed).
The output ends with one JSON line: {"max_rate_p99_under_100ms": x, ...} with the same run's
baselines (/healthz; with LOAD_BASELINE, "baseline": the other revision's figures).
"""

import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    SERVER,
    databases_create,
    databases_drop,
    manage,
    percentile,
    scratch_pair,
)
from bench.load import processes  # noqa: E402
from bench.load.report import print_table, summarise, verdict  # noqa: E402
from bench.load.traffic import Traffic  # noqa: E402

QUICK = os.environ.get("LOAD_QUICK") == "1"
DEFAULT_RATES = "10,40,80" if QUICK else "40,80,120,160,200,240"
RATES = [float(r) for r in os.environ.get("LOAD_RATES", DEFAULT_RATES).split(",")]
STEP_S = float(os.environ.get("LOAD_STEP_S", "5" if QUICK else "10"))
LEARNERS = int(os.environ.get("LOAD_LEARNERS", "50" if QUICK else "200"))
HISTORY = int(os.environ.get("LOAD_HISTORY", "160"))
WORKERS = int(os.environ.get("LOAD_WORKERS", "4"))  # 2 cores: the Makefile's serve-prod default
BASELINE_WORKERS = int(os.environ.get("LOAD_BASELINE_WORKERS", str(WORKERS)))
BASELINE_NOTE = f" ({BASELINE_WORKERS} workers)" if BASELINE_WORKERS != WORKERS else ""
P99_TARGET_MS = float(os.environ.get("LOAD_P99_MS", "100"))
PORT = int(os.environ.get("LOAD_PORT", "8972"))
PROFILE_RATE = float(os.environ.get("LOAD_PROFILE", "0"))
BASELINE_REV = os.environ.get("LOAD_BASELINE", "")
TREE_REV = os.environ.get("LOAD_TREE", "")  # serve this revision instead of the working tree
MIX = {"next": 0.4, "attempt": 0.4, "progress": 0.2}
DEGRADED_RATES_TO_STOP = 2

RUN = uuid.uuid4().hex[:8]
NEW, LEGACY = scratch_pair("load", RUN)
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/9")
NAMESPACE = f"load-{RUN}"  # the cache's key prefix and the Celery queue
LOGS = ROOT / "var" / f"bench_load_{RUN}"

# The bench process (seeding, minting tokens) and the servers share one environment.
os.environ.update(
    DJANGO_SETTINGS_MODULE="config.settings.production",
    DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
    DJANGO_SERVE_LOCAL_MEDIA="true",
    DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
    DATABASE_URL=f"{SERVER}/{NEW}",
    LEGACY_DATABASE_URL=f"{SERVER}/{LEGACY}",
    REDIS_URL=REDIS_URL,
    CACHE_KEY_PREFIX=NAMESPACE,
    CELERY_QUEUE=NAMESPACE,
    LEGACY_PULL_QUEUE=NAMESPACE,
    JWT_ACCESS_MINUTES="240",  # the tokens are minted before the run and must outlive it
    # Production's 60 s would recycle PostgreSQL backends mid-step, and the CPU of a backend
    # that exits is lost to the meter; one reconnect a minute per worker costs nothing.
    DATABASE_CONN_MAX_AGE="600",
    LOG_LEVEL="WARNING",
)


def service_times(servers, plan: dict, rounds: int = 40) -> dict[str, dict[str, float]]:
    """{server: {endpoint: p50}} for each endpoint and /healthz, one request at a time (no
    queueing), each request a different learner's; the servers take turns request by request,
    so a busy spell on a shared machine hits them alike."""
    learners, atom = plan["learners"], plan["atoms"][0]

    def request(base: str, n: int, path: str, body: dict | None = None):
        headers = {"Authorization": f"Bearer {learners[n % len(learners)]['token']}",
                   "X-Forwarded-Proto": "https", "Accept": "application/json",
                   "Content-Type": "application/json"}  # fmt: skip
        data = json.dumps(body).encode() if body else None
        return urllib.request.Request(f"{base}{path}", data=data, headers=headers)  # noqa: S310

    def attempt(base: str, n: int) -> urllib.request.Request:
        body = {"client_attempt_id": str(uuid.uuid4()), "atom": atom["id"],
                "response": atom["right"], "time_taken_ms": 4000}  # fmt: skip
        return request(base, n, "/api/v1/attempts/", body)

    next_path = f"/api/v1/scheduler/next/?course={plan['course']}&limit=10"
    calls = {
        "/healthz": lambda base, n: request(base, n, "/healthz"),
        "next": lambda base, n: request(base, n, next_path),
        "attempt": attempt,
        "progress": lambda base, n: request(base, n, "/api/v1/progress/"),
    }
    samples: dict = {server.name: {name: [] for name in calls} for server in servers}
    for name, build in calls.items():
        for n in range(rounds):
            for server in servers if n % 2 == 0 else servers[::-1]:
                call = build(server.base, n)
                started = time.perf_counter()
                with urllib.request.urlopen(call, timeout=10) as response:  # noqa: S310
                    response.read()
                samples[server.name][name].append((time.perf_counter() - started) * 1000)
    return {
        server: {name: percentile(times[5:], 0.5) for name, times in by_name.items()}
        for server, by_name in samples.items()
    }


def run_rate(server, traffic, meter, rate: float) -> list[dict]:
    """One step at ``rate``, and a second if the first is over the target."""
    rows = []
    for repeat in (False, True):
        spies = []
        if rate == PROFILE_RATE and not repeat:
            spies = processes.profile_start(server, STEP_S, LOGS)
        meter.begin()
        step = asyncio.run(traffic.step(server.base, rate, STEP_S))
        rows.append(summarise(step, meter.end(), P99_TARGET_MS, repeat))
        for spy in spies:
            spy.wait()
        r = rows[-1]
        print(f"  {server.name:<16} {rate:5.0f} req/s: p99 {r['p99']:7.1f} ms, "
              f"errors {r['errors']}" + (" (repeat)" if repeat else ""), flush=True)  # fmt: skip
        if r["ok"]:
            break
    return rows


def run() -> dict:
    import django

    django.setup()
    from django.db import connections

    from bench.load.seed import seed

    started = time.monotonic()
    manage("migrate", "--noinput")
    plan = seed(learners=LEARNERS, history=HISTORY, rng=random.Random(9)).as_dict()
    with connections["default"].cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would after the load
    connections.close_all()
    web = f"gunicorn {WORKERS} sync workers"
    if BASELINE_NOTE:
        web += f" (the baseline {BASELINE_WORKERS})"
    print(f"seeded {LEARNERS} learners and {len(plan['atoms'])} atoms in "
          f"{time.monotonic() - started:.0f} s; {web}, 1 Celery worker; "
          f"steps of {STEP_S:.0f} s")  # fmt: skip

    running: list[subprocess.Popen] = []
    try:
        mine = processes.baseline_tree(TREE_REV, LOGS / "tree") if TREE_REV else processes.ROOT
        name = f"tree {TREE_REV}" if TREE_REV else "this tree"
        servers = [processes.gunicorn_start(LOGS, name, PORT, WORKERS, mine)]
        running.append(servers[0].process)
        if BASELINE_REV:
            tree = processes.baseline_tree(BASELINE_REV, LOGS / "baseline")
            servers.append(processes.gunicorn_start(
                LOGS, f"baseline {BASELINE_REV}{BASELINE_NOTE}", PORT + 1, BASELINE_WORKERS, tree
            ))  # fmt: skip
            running.append(servers[1].process)
        worker = processes.worker_start(LOGS, NAMESPACE)
        running.append(worker)
        processes.wait_ready(servers, worker, LOGS)

        traffic = Traffic(plan, MIX, seed=int(RUN, 16))
        for server in servers:
            asyncio.run(traffic.step(server.base, 10, 4))  # warm-up: every worker connects
        service = service_times(servers, plan)
        meters = {s.name: processes.CpuMeter(s, worker, NEW) for s in servers}
        rows: dict[str, list[dict]] = {s.name: [] for s in servers}
        degraded = {s.name: 0 for s in servers}
        for index, rate in enumerate(RATES):
            # Alternate which server goes first, so drift on a shared machine hits both.
            order = servers if index % 2 == 0 else servers[::-1]
            active = [s for s in order if degraded[s.name] < DEGRADED_RATES_TO_STOP]
            if not active:
                break
            for server in active:
                runs = run_rate(server, traffic, meters[server.name], rate)
                rows[server.name] += runs
                degraded[server.name] = 0 if runs[-1]["ok"] else degraded[server.name] + 1

        for server in servers:
            print(f"\n== {server.name}")
            print_table(rows[server.name])
            print("service time, one request at a time (p50): " + ", ".join(
                f"{name} {ms:.1f} ms" for name, ms in service[server.name].items()
            ))  # fmt: skip
            for line in verdict(rows[server.name]).lines(P99_TARGET_MS):
                print(line)
        if BASELINE_REV:
            compare(servers, rows, service)
        if PROFILE_RATE:
            print(f"profiles: {LOGS}/profile-*.txt (collapsed stacks: speedscope, flamegraph.pl)")
        return figures(servers, rows, service)
    finally:
        for process in reversed(running):
            processes.stop(process)


def figures(servers, rows: dict, service: dict) -> dict:
    """The run's figures for the closing JSON line: this tree's, and its same-run baselines
    (/healthz one request at a time; with LOAD_BASELINE, the other revision's figures)."""

    def of(server) -> dict:
        found = verdict(rows[server.name])
        return {
            "max_rate_p99_under_100ms": found.best["rate"] if found.best else 0.0,
            "degrades_at": found.degraded["rate"] if found.degraded else None,
            "service_p50_ms": {k: round(v, 2) for k, v in service[server.name].items()},
            "web_cpu_ms_per_request": {
                f"{r:.0f}": round(cpu_ms_per_request(rows[server.name], r, "web"), 2)
                for r in sorted({row["rate"] for row in rows[server.name]})
            },
        }

    mine = of(servers[0])
    result = {
        "max_rate_p99_under_100ms": mine.pop("max_rate_p99_under_100ms"),
        **mine,
        "p99_target_ms": P99_TARGET_MS,
        "healthz_p50_ms": mine["service_p50_ms"]["/healthz"],
        "rates": RATES,
        "step_s": STEP_S,
    }
    if BASELINE_REV:
        result["baseline"] = {"revision": BASELINE_REV, **of(servers[1])}
    return result


def compare(servers, rows: dict, service: dict) -> None:
    mine, theirs = (s.name for s in servers)
    print(f"\n== {mine} against {theirs}, same run")
    for name in ("next", "attempt", "progress"):
        a, b = service[mine][name], service[theirs][name]
        print(f"service time {name:<9} {a:6.1f} ms vs {b:6.1f} ms ({a / b:.2f}x)")
    # CPU per request is steadier than latency on a shared machine: compare it at every
    # rate both held or ran.
    rates = sorted({r["rate"] for r in rows[mine]} & {r["rate"] for r in rows[theirs]})
    for part in ("web", "pg"):
        costs = {s: [cpu_ms_per_request(rows[s], rate, part) for rate in rates] for s in rows}
        ratios = [a / b for a, b in zip(costs[mine], costs[theirs], strict=True) if b]
        print(f"{part} CPU per request    " + "  ".join(
            f"{rate:.0f}/s: {a:.1f} vs {b:.1f} ms"
            for rate, a, b in zip(rates, costs[mine], costs[theirs], strict=True)
        ) + (f"  (median {sorted(ratios)[len(ratios) // 2]:.2f}x)" if ratios else ""))  # fmt: skip
    verdicts = {s: verdict(rows[s]) for s in (mine, theirs)}
    held = {s: (v.best["rate"] if v.best else 0.0) for s, v in verdicts.items()}
    knee = {s: (f"{v.degraded['rate']:.0f}" if v.degraded else "-") for s, v in verdicts.items()}
    print(f"throughput at p99 < {P99_TARGET_MS:.0f} ms: {held[mine]:.0f} vs {held[theirs]:.0f} "
          f"req/s; degrades at {knee[mine]} vs {knee[theirs]} req/s")  # fmt: skip


def cpu_ms_per_request(rows: list[dict], rate: float, part: str) -> float:
    runs = [r for r in rows if r["rate"] == rate]
    spent = sum(r["cpu_ms"][part] * r["requests"] for r in runs)
    requests = sum(r["requests"] for r in runs)
    return spent / requests if requests else 0.0


def redis_clean() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"*{NAMESPACE}*", count=1000):
        client.delete(key)


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` cleans up
    LOGS.mkdir(parents=True, exist_ok=True)
    databases_create(NEW, LEGACY, replace=True)
    ok = False
    try:
        result = run()
        ok = True
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - Django may not have been set up
            pass
        databases_drop(NEW, LEGACY)
        redis_clean()
        if ok and not PROFILE_RATE:
            shutil.rmtree(LOGS, ignore_errors=True)
        else:
            print(f"logs: {LOGS}")
    print(json.dumps(result))  # the last line: this run's figures and their baselines


if __name__ == "__main__":
    main()
