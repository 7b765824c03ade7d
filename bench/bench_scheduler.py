"""Scheduler performance (issue 6), each next to a baseline from the same run:

1. scoring throughput: the vectorised unified score vs the same arithmetic in a Python loop;
2. GET /api/v1/scheduler/next/ latency through gunicorn on PostgreSQL for a learner with 10k
   atom states, vs GET /healthz on the same server.

Run: .venv/bin/python bench/bench_scheduler.py   (needs PostgreSQL for part 2)
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from apps.scheduler.algorithms.scoring import (  # noqa: E402
    ScoreWeights,
    score_candidates,
    score_candidates_loop,
)


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
    import bench_attempts as shared
    import psycopg

    with psycopg.connect(f"{shared.SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{shared.SCRATCH}"')
    server = None
    try:
        shared.setup_django()
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
            for n in range(10_000)
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
        if "--profile" in sys.argv:
            import cProfile
            import pstats

            from apps.scheduler.selectors import next_items

            next_items(learner=learner, course=course, limit=10)
            profiler = cProfile.Profile()
            profiler.enable()
            next_items(learner=learner, course=course, limit=10)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(18)
            from django.db.models import FilteredRelation, Q

            from apps.content.models import AtomStatus

            query = (
                LearningAtom.objects.filter(
                    published_revision__isnull=False, live_concepts__course=course
                )
                .exclude(status=AtomStatus.ARCHIVED)
                .annotate(
                    mine=FilteredRelation(
                        "learner_states",
                        condition=Q(learner_states__learner=learner)
                        & Q(learner_states__archived_in__isnull=True),
                    )
                )
                .values_list("pk", "mine__due_at", "mine__reviews")
            )
            print(query.explain(analyze=True))
            return
        connections.close_all()
        env = os.environ | {
            "API_THROTTLE_USER": "1000000/minute",
            "API_THROTTLE_ANON": "1000000/minute",
        }
        port = shared.PORT
        server = subprocess.Popen(  # noqa: S603 - our own gunicorn
            [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--log-level", "warning"], cwd=ROOT, env=env,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        credentials = {"email": "next@example.com", "password": "next-pass-123"}
        token = shared._post(base + "/api/v1/auth/token/", credentials)["access"]
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{base}/api/v1/scheduler/next/?course={course.pk}&limit=10"
        health, nexts = [], []
        for _ in range(200):
            started = time.perf_counter()
            urllib.request.urlopen(f"{base}/healthz", timeout=5).read()  # noqa: S310
            health.append((time.perf_counter() - started) * 1000)
            request = urllib.request.Request(url, headers=headers)  # noqa: S310
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                assert len(__import__("json").loads(response.read())["items"]) == 10
            nexts.append((time.perf_counter() - started) * 1000)
        for label, samples in (("GET /scheduler/next/ (10k atom states)", nexts[20:]),
                               ("baseline: GET /healthz", health[20:])):  # fmt: skip
            p50, p99 = shared.percentile(samples, 0.5), shared.percentile(samples, 0.99)
            print(f"{label:<42}p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{shared.SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{shared.SCRATCH}" WITH (FORCE)')


if __name__ == "__main__":
    bench_scoring()
    if "--scoring-only" not in sys.argv:
        bench_next()
