"""Learner API performance on PostgreSQL (issue 5), each figure next to a baseline from the
same run:

1. batch ingest throughput (500-row batches through attempts_ingest) vs one ORM save per row;
2. statistics and progress latency for a learner with 50k attempts, read from the per-day and
   per-atom rollups, vs the full computation from the attempt log (the same output, asserted);
3. single-attempt POST latency through gunicorn for a learner with 10k prior attempts vs
   GET /healthz on the same server.

Creates and drops a scratch database. Run: .venv/bin/python bench/bench_attempts.py
The last line of output is one JSON object holding every figure and its baseline.
"""

import json
import os
import random
import signal
import time
import urllib.request
import uuid
from datetime import timedelta

import _common as common

SCRATCH = common.scratch_name("attempts")
STATISTICS_SAMPLES = 200
FIGURES: dict = {}


def seed_history(learner, atoms, count: int) -> float:
    """Bulk-insert ``count`` past attempts for ``learner`` (spread over 25 days), then build
    the learner's rollups (a bulk insert bypasses them, as the legacy backfill's COPY does)."""
    from django.utils import timezone

    from apps.learning.models import Attempt
    from apps.learning.services.rollups import learner_rollups_rebuild

    now, rows = timezone.now(), []
    for n in range(count):
        atom = atoms[n % len(atoms)]
        correct = random.random() < 0.7
        rows.append(
            Attempt(
                learner=learner,
                atom=atom,
                revision=atom.published_revision,
                client_attempt_id=uuid.uuid4(),
                response={"choice": 1 if correct else 0},
                correct=correct,
                score=1.0 if correct else 0.0,
                quality=5 if correct else 1,
                time_taken_ms=random.randint(2000, 20000),
                selected_options=[1 if correct else 0],
                answered_at=now - timedelta(minutes=random.randint(1, 25 * 24 * 60)),
            )
        )
    Attempt.objects.bulk_create(rows, batch_size=5000)
    started = time.perf_counter()
    learner_rollups_rebuild(learner_ids=[learner.pk])
    return (time.perf_counter() - started) * 1000


def bench_batch(atoms) -> None:
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.content.atom_types import get_atom_type
    from apps.content.selectors import revision_atom_snapshot
    from apps.learning.models import Attempt
    from apps.learning.services.attempts import AttemptInput, attempts_ingest

    batches, size = 8, 500
    learner = User.objects.create_user("batch@example.com", "x")
    start = timezone.now() - timedelta(days=2)

    def rows(offset: int) -> list[AttemptInput]:
        return [
            AttemptInput(
                client_attempt_id=uuid.uuid4(),
                atom_id=atoms[(offset + n) % len(atoms)].pk,
                response={"choice": random.choice([0, 1, 2])},
                time_taken_ms=3000,
                answered_at=start + timedelta(seconds=offset + n),
            )
            for n in range(size)
        ]

    started = time.perf_counter()
    for b in range(batches):
        outcomes = attempts_ingest(learner=learner, inputs=rows(b * size))
        assert all(o.status == "created" for o in outcomes)
    ingest = batches * size / (time.perf_counter() - started)

    naive_learner = User.objects.create_user("naive@example.com", "x")
    started = time.perf_counter()
    for item in rows(0)[:size]:
        atom = next(a for a in atoms if a.pk == item.atom_id)
        kind = get_atom_type("mcq")
        result = kind.grade_response(revision_atom_snapshot(atom.published_revision), item.response)
        Attempt.objects.create(
            learner=naive_learner,
            atom=atom,
            revision=atom.published_revision,
            client_attempt_id=item.client_attempt_id,
            response=item.response,
            correct=result.correct,
            score=result.score,
            quality=5 if result.correct else 1,
            answered_at=item.answered_at,
        )
    naive = size / (time.perf_counter() - started)
    print(f"batch ingest (500-row batches)            {ingest:8.0f} attempts/s")
    print(f"baseline: one ORM save per row, no state  {naive:8.0f} attempts/s")
    print(f"ratio                                     {ingest / naive:8.2f}x")
    FIGURES.update(batch_ingest_per_s=round(ingest), batch_baseline_orm_save_per_s=round(naive))


def bench_statistics(atoms) -> None:
    from apps.accounts.models import User
    from apps.learning.selectors import (
        learner_progress,
        learner_statistics,
        learner_statistics_from_attempts,
    )

    learner = User.objects.create_user("heavy@example.com", "x", timezone="Europe/Berlin")
    rebuild_ms = seed_history(learner, atoms, 50_000)
    assert learner_statistics(learner) == learner_statistics_from_attempts(learner)
    print(f"rollup rebuild, 50k attempts              {rebuild_ms:8.1f} ms")
    FIGURES.update(statistics_attempts=50_000, rollup_rebuild_50k_ms=round(rebuild_ms, 1))
    # Interleaved, so both sides see the same machine.
    calls = {
        "statistics": lambda: learner_statistics(learner),
        "progress": lambda: learner_progress(learner),
        "statistics_full": lambda: learner_statistics_from_attempts(learner),
    }
    samples: dict = {name: [] for name in calls}
    for call in calls.values():
        call()
    for _ in range(STATISTICS_SAMPLES):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            samples[name].append((time.perf_counter() - started) * 1000)
    for name, label in (
        ("statistics", "statistics, rollups (50k attempts)"),
        ("progress", "progress, rollups (50k attempts)"),
        ("statistics_full", "baseline: statistics from the attempt log"),
    ):
        common.print_latency(label, samples[name])
        FIGURES[f"{name}_p50_ms"] = round(common.percentile(samples[name], 0.5), 2)
        FIGURES[f"{name}_p99_ms"] = round(common.percentile(samples[name], 0.99), 2)


def bench_http(atoms) -> None:
    from apps.accounts.models import User

    learner = User.objects.create_user("live@example.com", "demo-pass-123")
    seed_history(learner, atoms, 10_000)
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "config.settings.test", **common.NO_THROTTLE}
    server = common.gunicorn_start(common.PORT, env=env)
    base = f"http://127.0.0.1:{common.PORT}"
    try:
        headers = common.bearer(base, "live@example.com", "demo-pass-123")
        health, posts = [], []
        for n in range(300):
            started = time.perf_counter()
            urllib.request.urlopen(f"{base}/healthz", timeout=5).read()  # noqa: S310
            health.append((time.perf_counter() - started) * 1000)
            body = {"client_attempt_id": str(uuid.uuid4()), "atom": str(atoms[n % len(atoms)].pk),
                    "response": {"choice": n % 3}, "time_taken_ms": 2500}  # fmt: skip
            started = time.perf_counter()
            common.post_json(base + "/api/v1/attempts/", body, headers)
            posts.append((time.perf_counter() - started) * 1000)
        for label, samples in (("POST /api/v1/attempts/ (10k history)", posts[20:]),
                               ("baseline: GET /healthz", health[20:])):  # fmt: skip
            common.print_latency(label, samples)
        FIGURES.update(
            post_p50_ms=round(common.percentile(posts[20:], 0.5), 2),
            post_p99_ms=round(common.percentile(posts[20:], 0.99), 2),
            healthz_p99_ms=round(common.percentile(health[20:], 0.99), 2),
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def main() -> None:
    random.seed(3)
    common.databases_create(SCRATCH)
    try:
        common.django_setup(SCRATCH)
        from apps.content.services import ConceptWeightInput, atom_create
        from apps.curriculum.models import Concept, Course

        course = Course.objects.create(slug="bench", title="Bench", is_published=True)
        concept = Concept.objects.create(course=course, text="Transport")
        atoms = [
            atom_create(
                by=None, title=f"Q{n}", atom_type="mcq",
                content={"prompt": f"Question {n}?"}, grading_logic={},
                options=[{"text": "A"}, {"text": "B", "is_correct": True}, {"text": "C"}],
                concept_weights=[ConceptWeightInput(concept)], status="published",
            )
            for n in range(50)
        ]  # fmt: skip
        bench_batch(atoms)
        bench_statistics(atoms)
        common.connections_close()
        bench_http(atoms)
    finally:
        common.connections_close()
        common.databases_drop(SCRATCH)
    print(json.dumps(FIGURES, sort_keys=True))


if __name__ == "__main__":
    main()
