"""Bulk import throughput: the dry run and the confirmed import of N atoms, against a
baseline of creating the same atoms directly through atom_create, in the same run.

Runs on a throwaway SQLite database (eager Celery). Run:
    .venv/bin/python bench/bench_import.py [atoms]      (default 2000; the issue's bar is 10000)
"""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_scratch = tempfile.mkdtemp(prefix="bench-import-")
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
os.environ["DATABASE_URL"] = f"sqlite:///{_scratch}/db.sqlite3"
os.environ["LEGACY_DATABASE_URL"] = f"sqlite:///{_scratch}/legacy.sqlite3"
os.environ["MEDIA_ROOT"] = f"{_scratch}/media"
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.content.models import ImportJob, LearningAtom  # noqa: E402
from apps.content.services import ConceptWeightInput, atom_create  # noqa: E402
from apps.content.services.imports import (  # noqa: E402
    import_job_apply,
    import_job_preview,
)
from apps.curriculum.models import Concept, Course  # noqa: E402


def records(count: int, prefix: str) -> list[dict]:
    return [
        {
            "external_id": f"{prefix}-{n}",
            "title": f"Question {n}",
            "atom_type": "mcq",
            "content": {"prompt": f"Which protocol orders segment {n}?"},
            "grading_logic": {},
            "options": [
                {"text": "UDP", "is_correct": False},
                {"text": "TCP", "is_correct": True},
                {"text": "ICMP", "is_correct": False},
            ],
            "concepts": [{"course": "bench", "concept": "Transport", "weight": 1.0}],
            "tags": ["bench"],
            "metadata": {"difficulty": 2},
        }
        for n in range(count)
    ]


def main(count: int) -> None:
    call_command("migrate", verbosity=0)
    author = User.objects.create_superuser("bench@example.com", "x")
    course = Course.objects.create(slug="bench", title="Bench")
    concept = Concept.objects.create(course=course, text="Transport")

    started = time.perf_counter()
    for record in records(count, "direct"):
        atom_create(
            by=author,
            title=record["title"],
            atom_type="mcq",
            content=record["content"],
            grading_logic={},
            options=record["options"],
            concept_weights=[ConceptWeightInput(concept)],
            tags=record["tags"],
            external_id=record["external_id"],
            difficulty=2,
        )
    baseline = time.perf_counter() - started

    payload = json.dumps({"atoms": records(count, "imported")}).encode()
    job = ImportJob.objects.create(
        created_by=author,
        file=SimpleUploadedFile("bench.json", payload),
        original_name="bench.json",
        format="json",
    )
    started = time.perf_counter()
    job = import_job_preview(job=job)
    preview = time.perf_counter() - started
    assert job.error_count == 0, job.plan[:3]
    ImportJob.objects.filter(pk=job.pk).update(status="importing")  # as import_job_confirm does
    job.refresh_from_db()
    started = time.perf_counter()
    job = import_job_apply(job=job)
    apply = time.perf_counter() - started
    assert LearningAtom.objects.count() == 2 * count

    print(f"atoms                               {count}")
    print(f"direct atom_create (baseline)       {count / baseline:8.0f} atoms/s")
    print(f"import dry run                      {count / preview:8.0f} rows/s")
    print(f"import apply                        {count / apply:8.0f} atoms/s")
    print(f"apply / baseline time ratio         {apply / baseline:8.2f}x")
    per_10k = 10_000 * (preview + apply) / count
    print(f"dry run + apply for 10k atoms       {per_10k:8.0f} s (extrapolated)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
