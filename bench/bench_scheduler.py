"""Scheduler performance (issue 6), each next to a baseline from the same run:

1. scoring throughput: the vectorised unified score vs the same arithmetic in a Python loop;
2. GET /api/v1/scheduler/next/ latency through gunicorn (2 workers, the test settings: no
   Redis) on PostgreSQL for a learner with 10k atom states, vs GET /healthz on the same server;
   and next_items() in-process vs the implementation before issue 19
   (tests/scheduler/next_items_reference.py), which must pick the same atoms.

The last line of the output is one JSON object of the figures (next_p99_ms, next_p50_ms,
healthz_p99_ms, atom_states, the in-process pair...).

Run: .venv/bin/python bench/bench_scheduler.py   (needs PostgreSQL for part 2: BENCH_PG_SERVER,
BENCH_DB_PREFIX, BENCH_PORT as in bench/_common.py)
     .venv/bin/python bench/bench_scheduler.py --profile   cProfile of a call, EXPLAIN ANALYZE of
its candidates query (no HTTP)
"""

import json
import os
import signal
import sys
import time
import urllib.request
from datetime import timedelta

import _common as common  # first: it puts the project root on sys.path
import numpy as np

from apps.scheduler.algorithms.scoring import (
    ScoreWeights,
    score_candidates,
    score_candidates_loop,
)

SCRATCH = common.scratch_name("scheduler")
ATOM_STATES = 10_000
ROUNDS, WARMUP = 400, 40  # HTTP requests of each kind, the first WARMUP not counted
INPROCESS_ROUNDS = 100


def bench_scoring() -> None:
    rng = np.random.default_rng(1)
    n = 1_000_000
    overdue = np.where(rng.random(n) < 0.3, np.nan, rng.normal(0, 5, n))
    mastery, p, seen = rng.random(n), rng.random(n), rng.integers(0, 20, n).astype(float)
    weights = ScoreWeights()
    score_candidates(overdue[:1000], mastery[:1000], p[:1000], seen[:1000], 1000.0, weights)
    started = time.perf_counter()
    score_candidates(overdue, mastery, p, seen, float(seen.sum()), weights)
    vectorised = n / (time.perf_counter() - started)
    m = 100_000
    started = time.perf_counter()
    score_candidates_loop(overdue[:m], mastery[:m], p[:m], seen[:m], float(seen.sum()), weights)
    loop = m / (time.perf_counter() - started)
    print(f"scoring, vectorised (1M candidates)       {vectorised:12,.0f} candidates/s")
    print(f"baseline: per-item Python loop            {loop:12,.0f} candidates/s")
    print(f"ratio                                     {vectorised / loop:12.1f}x")


def bench_next() -> None:
    common.databases_create(SCRATCH)
    server, figures = None, {}
    try:
        common.django_setup(SCRATCH)
        from django.db import connections
        from django.utils import timezone

        from apps.accounts.models import User
        from apps.content.models import AtomRevision, LearningAtom
        from apps.content.selectors import atom_working_snapshot
        from apps.curriculum.models import Concept, Course
        from apps.scheduler.models import LearnerAtomState

        course = Course.objects.create(slug="big", title="Big", is_published=True)
        concepts = [Concept.objects.create(course=course, text=f"C{i}") for i in range(50)]
        template = LearningAtom(
            title="t", atom_type="flashcard", content={"front": "Q", "back": "A"}
        )
        atoms = [
            LearningAtom(title=f"A{n}", atom_type="flashcard", content=template.content,
                         status="published", irt_b=float(np.sin(n)))
            for n in range(ATOM_STATES)
        ]  # fmt: skip
        LearningAtom.objects.bulk_create(atoms, batch_size=2000)
        snapshot = atom_working_snapshot(atoms[0])
        revisions = [
            AtomRevision(atom=a, number=1, source="system",
                         snapshot=snapshot | {"title": a.title, "concepts": []})
            for a in atoms
        ]  # fmt: skip
        AtomRevision.objects.bulk_create(revisions, batch_size=2000)
        for atom, revision in zip(atoms, revisions, strict=True):
            atom.published_revision = revision
        LearningAtom.objects.bulk_update(atoms, ["published_revision"], batch_size=2000)
        through = LearningAtom.live_concepts.through
        through.objects.bulk_create(
            [through(learningatom_id=a.pk, concept_id=concepts[i % 50].pk)
             for i, a in enumerate(atoms)], batch_size=5000,
        )  # fmt: skip
        learner = User.objects.create_user("next@example.com", "next-pass-123")
        now = timezone.now()
        LearnerAtomState.objects.bulk_create(
            [LearnerAtomState(learner=learner, atom=a, state={"algorithm": "sm2"},
                              due_at=now + timedelta(hours=int(i % 200) - 100), reviews=1 + i % 5)
             for i, a in enumerate(atoms)], batch_size=5000,
        )  # fmt: skip
        with connections["default"].cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would after a bulk load
        inprocess = bench_inprocess(learner, course)
        if "--profile" in sys.argv:
            profile_next(learner, course)
            return
        common.connections_close()
        server = common.gunicorn_start(common.PORT, env=os.environ | common.NO_THROTTLE)
        base = f"http://127.0.0.1:{common.PORT}"
        headers = common.bearer(base, "next@example.com", "next-pass-123")
        url = f"{base}/api/v1/scheduler/next/?course={course.pk}&limit=10"
        health, nexts = [], []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            urllib.request.urlopen(f"{base}/healthz", timeout=5).read()  # noqa: S310
            health.append((time.perf_counter() - started) * 1000)
            request = urllib.request.Request(url, headers=headers)  # noqa: S310
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                assert len(__import__("json").loads(response.read())["items"]) == 10
            nexts.append((time.perf_counter() - started) * 1000)
        nexts, health = nexts[WARMUP:], health[WARMUP:]
        for label, samples in (("GET /scheduler/next/ (10k atom states)", nexts),
                               ("baseline: GET /healthz", health)):  # fmt: skip
            common.print_latency(label, samples)
        figures = {
            "next_p99_ms": round(common.percentile(nexts, 0.99), 2),
            "next_p50_ms": round(common.percentile(nexts, 0.5), 2),
            "healthz_p99_ms": round(common.percentile(health, 0.99), 2),
            "healthz_p50_ms": round(common.percentile(health, 0.5), 2),
            "atom_states": ATOM_STATES,
            "requests": len(nexts),
            **inprocess,
        }
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
        common.connections_close()
        common.databases_drop(SCRATCH)
    if figures:
        print(json.dumps(figures))  # the last line: the figures, for tracking


def bench_inprocess(learner, course) -> dict:
    """next_items called in this process (no HTTP, no serializer), against the implementation
    before issue 19 (tests/scheduler/next_items_reference.py) on the same data, one after the other;
    the two must pick the same atoms."""
    from apps.scheduler.selectors import next_items
    from tests.scheduler.next_items_reference import next_items_reference

    def picks(function) -> list:
        return [item.atom_id for item in function(learner=learner, course=course, limit=10)]

    assert picks(next_items) == picks(next_items_reference), "the fast path picks differently"
    from apps.scheduler import candidates

    def cold_next_items(**arguments):
        candidates._hot.clear()  # as after a publish, a restart or the copy's maximum age
        return next_items(**arguments)

    new, cold, old = [], [], []
    for function, samples in ((next_items, new), (cold_next_items, cold),
                              (next_items_reference, old)):  # fmt: skip
        for _ in range(INPROCESS_ROUNDS):
            started = time.perf_counter()
            function(learner=learner, course=course, limit=10)
            samples.append((time.perf_counter() - started) * 1000)
    common.print_latency("next_items() in-process, candidates hot", new)
    common.print_latency("next_items() in-process, cold", cold)
    common.print_latency("baseline: before issue 19, in-process", old)
    return {
        "inprocess_cold_p50_ms": round(common.percentile(cold, 0.5), 2),
        "inprocess_cold_p99_ms": round(common.percentile(cold, 0.99), 2),
        "inprocess_next_p50_ms": round(common.percentile(new, 0.5), 2),
        "inprocess_next_p99_ms": round(common.percentile(new, 0.99), 2),
        "inprocess_reference_p50_ms": round(common.percentile(old, 0.5), 2),
        "inprocess_reference_p99_ms": round(common.percentile(old, 0.99), 2),
    }


def profile_next(learner, course) -> None:
    """cProfile of one warm call, then the plan of its candidates query."""
    import cProfile
    import pstats

    from apps.scheduler.selectors import next_items

    next_items(learner=learner, course=course, limit=10)
    profiler = cProfile.Profile()
    profiler.enable()
    next_items(learner=learner, course=course, limit=10)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(18)
    explain_candidates_query(learner, course)


def explain_candidates_query(learner, course) -> None:
    """EXPLAIN ANALYZE of the learner's state read next_items runs on every call (the course's
    candidates are hot), captured from a call rather than restated here."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.scheduler.selectors import next_items

    with CaptureQueriesContext(connection) as captured:
        next_items(learner=learner, course=course, limit=10)
    sql = next(q["sql"] for q in captured if "scheduler_learneratomstate" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ANALYZE {sql}")
        print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    bench_scoring()
    if "--scoring-only" not in sys.argv:
        bench_next()
