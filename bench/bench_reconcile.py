"""Reconciliation performance on PostgreSQL (issue 8; target: seed scale in < 60 s).

1. a dirty seed-scale fixture (20k users, 450k sessions, 3.2M attempts, 500 bits) is built
   and backfilled, then ``legacy_reconcile`` runs on it: every entity clean (the quarantine
   explained), with per-entity seconds and queries;
2. a handful of differences is injected (v2 attempts deleted; v1 attempts, sessions, a user
   and a review card edited; v1 points added) and the reconciliation runs again: bisection
   must find exactly those rows, fetching few; with the rows fetched and ranges compared;
3. ``--repair``, then a last run: what is left is what repair leaves to staff (the user and
   the review card);
4. baseline, same data, same run: the attempts through the Python method (every row read and
   hashed here), at BENCH_SCALE ≤ 0.25 only (it holds every attempt in memory).

BENCH_SCALE (default 1.0) shrinks the fixture for a quick look. Creates and drops scratch
databases. Run: .venv/bin/python bench/bench_reconcile.py
"""

import json
import random
import subprocess
import time
import uuid

import psycopg
from _common import ROOT, SCALE, SERVER, databases_create, databases_drop, django_env, scratch_pair
from _common import manage as manage_run

RUN = uuid.uuid4().hex[:8]
NEW, LEGACY = scratch_pair("reconcile", RUN)
JSON_DIR = ROOT / "var" / f"bench_reconcile_{RUN}"
PYTHON_BASELINE_MAX_SCALE = 0.25


def manage(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return manage_run(*args, env=django_env(NEW, LEGACY), check=check)


def reconcile(*args: str) -> tuple[dict, float]:
    """``legacy_reconcile --json``: its result and wall time (it exits 1 on differences)."""
    started = time.perf_counter()
    done = manage("legacy_reconcile", "--json", *args, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise RuntimeError(f"legacy_reconcile failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout), elapsed


def found(result: dict) -> set[tuple[str, str, str]]:
    return {(d["entity"], d["legacy_key"], d["kind"]) for d in result["unexplained"]}


def print_entities(result: dict) -> None:
    print(f"   {'entity':<17} {'v1 rows':>10} {'v2 rows':>10} {'ranges':>7} {'rows fetched':>12} "
          f"{'queries':>7} {'explained':>9} {'seconds':>8}")  # fmt: skip
    for name, e in result["entities"].items():
        print(f"   {name:<17} {e['v1_rows']:>10,} {e['v2_rows']:>10,} {e['ranges_compared']:>7,} "
              f"{e['rows_fetched']:>12,} {e['queries']:>7} {e['explained']:>9,} "
              f"{e['seconds']:>8.2f}")  # fmt: skip


def inject(rng: random.Random) -> set[tuple[str, str, str]]:
    """Change a few rows on either side; return the differences they must produce."""
    expected = set()
    with psycopg.connect(f"{SERVER}/{NEW}") as new, psycopg.connect(f"{SERVER}/{LEGACY}") as old:

        def migrated(table: str, extra: str = "") -> list[str]:
            rows = new.execute(
                f"SELECT legacy_key FROM {table} WHERE origin = 'legacy' "  # noqa: S608
                f"AND legacy_key ~ '^[0-9]+$' {extra}"
            ).fetchall()
            return sorted((r[0] for r in rows), key=int)

        attempts = rng.sample(migrated("learning_attempt"), 8)
        for key in attempts[:5]:  # deleted in v2: missing there, and a learner's count short
            new.execute("DELETE FROM learning_attempt WHERE legacy_key = %s AND origin = 'legacy'",
                        [key])  # fmt: skip
            user = old.execute("SELECT user_id FROM attempts WHERE id = %s", [int(key)]).fetchone()
            expected |= {("attempts", key, "missing_in_v2"),
                         ("learner_attempts", str(user[0]), "mismatch")}  # fmt: skip
        for key in attempts[5:]:  # a verdict changed in v1
            old.execute("UPDATE attempts SET correct = NOT correct WHERE id = %s", [int(key)])
            expected.add(("attempts", key, "mismatch"))
        sessions = migrated("learning_studysession", "AND completed_at IS NOT NULL")
        for key in rng.sample(sessions, 2):  # completed later in v1
            old.execute("UPDATE sessions SET completed_at = completed_at + interval '1 hour' "
                        "WHERE id = %s", [int(key)])  # fmt: skip
            expected.add(("sessions", key, "mismatch"))
        user = rng.choice(migrated("accounts_user"))
        old.execute("UPDATE users SET display_name = 'Renamed in v1' WHERE id = %s", [int(user)])
        expected.add(("users", user, "mismatch"))
        card = rng.choice(migrated("scheduler_learneratomstate"))
        old.execute("UPDATE review_cards SET ease = ease + 0.1 WHERE id = %s", [int(card)])
        expected.add(("review_cards", card, "mismatch"))
        top = old.execute("SELECT MAX(id) FROM points").fetchone()[0]
        for offset in (1, 2):  # new in v1, not pulled yet
            old.execute(
                "INSERT INTO points (id, user_id, reason, amount, created_at) "
                "VALUES (%s, 10, 'streak_bonus', 5, '2026-06-01')",
                [top + offset],
            )
            expected.add(("points", str(top + offset), "missing_in_v2"))
    return expected


def main() -> None:
    users, sessions, attempts = (int(n * SCALE) for n in (20_000, 450_000, 3_200_000))
    databases_create(LEGACY, NEW)
    try:
        manage("migrate", "--noinput")
        started = time.perf_counter()
        manage("legacy_make_fixture", "--users", str(users), "--sessions", str(sessions),
               "--attempts", str(attempts), "--bits", "500", "--seed", "7", "--dirty",
               "--json-dir", str(JSON_DIR))  # fmt: skip
        manage("legacy_backfill", "--json-dir", str(JSON_DIR), "--batch-size", "20000")
        built = time.perf_counter() - started
        print(f"fixture: {users:,} users, {sessions:,} sessions, {attempts:,} attempts, "
              f"500 bits (dirty), built and backfilled in {built:.0f} s")  # fmt: skip

        # 1. A clean reconciliation.
        clean, clean_s = reconcile()
        print(f"\n1. reconcile, after the backfill: {clean_s:.1f} s in all (process included); "
              f"status {clean['status']}, {clean['differences']} unexplained, "
              f"{clean['explained']:,} explained (the quarantine)")  # fmt: skip
        print_entities(clean)

        # 2. A handful of differences injected.
        expected = inject(random.Random(7))  # a reproducible sample
        dirty, dirty_s = reconcile()
        exact = found(dirty) == expected
        attempts_entry = dirty["entities"]["attempts"]
        print(f"\n2. reconcile, {len(expected)} differences injected: {dirty_s:.1f} s; "
              f"found {dirty['differences']} unexplained, exactly the injected ones: {exact}; "
              f"attempts: {attempts_entry['ranges_compared']} ranges compared over "
              f"{attempts_entry['levels']} levels, {attempts_entry['rows_fetched']:,} rows "
              f"fetched of {attempts_entry['v1_rows'] + attempts_entry['v2_rows']:,}")  # fmt: skip
        if not exact:
            print(f"   missed: {sorted(expected - found(dirty))}")
            print(f"   extra:  {sorted(found(dirty) - expected)}")
        print_entities(dirty)

        # 3. Repair, then what is left.
        repaired, repair_s = reconcile("--repair")
        left, left_s = reconcile()
        kept = {d for d in expected if d[0] in ("users", "review_cards")}
        print(f"\n3. reconcile --repair: {repair_s:.1f} s, {repaired['repaired']} repaired; "
              f"the next run {left_s:.1f} s leaves {left['differences']} unexplained, exactly "
              f"the ones repair leaves to staff (a user, a review card): "
              f"{found(left) == kept}")  # fmt: skip

        # 4. Baseline: every attempt read and hashed in Python.
        if SCALE <= PYTHON_BASELINE_MAX_SCALE:
            python, python_s = reconcile("--method", "python", "--entities", "attempts")
            sql_attempts = left["entities"]["attempts"]["seconds"]
            python_attempts = python["entities"]["attempts"]["seconds"]
            print(f"\n4. baseline, attempts through the Python method: {python_attempts:.1f} s "
                  f"({python_s:.1f} s with the process); hashed in SQL: {sql_attempts:.1f} s "
                  f"= {python_attempts / max(sql_attempts, 1e-3):.1f}× faster")  # fmt: skip
        else:
            print(f"\n4. baseline skipped above BENCH_SCALE={PYTHON_BASELINE_MAX_SCALE}: the "
                  "Python method holds every attempt in memory")  # fmt: skip
    finally:
        databases_drop(NEW, LEGACY)
        subprocess.run(["rm", "-rf", str(JSON_DIR)], check=False)  # noqa: S603, S607


if __name__ == "__main__":
    main()
