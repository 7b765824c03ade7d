"""``legacy_backfill --async``: the same result through a real Celery worker process."""

import pytest

from apps.learning.models import Attempt, StudySession
from apps.legacy_sync.backfill.runner import backfill_run
from apps.legacy_sync.models import BackfillCheckpoint, QuarantinedRow
from apps.legacy_sync.status import conservation_report
from apps.legacy_sync.v1.fixture import legacy_fixture_build

pytestmark = [
    pytest.mark.django_db(databases=["default", "legacy"], transaction=True),
    pytest.mark.integration,
]


def snapshot() -> dict:
    return {
        "attempts": sorted(
            Attempt.objects.values_list("legacy_key", "learner_id", "atom_id", "session_id")
        ),
        "sessions": sorted(StudySession.objects.values_list("legacy_key", "learner_id")),
        "quarantine": sorted(QuarantinedRow.objects.values_list("entity", "legacy_key", "reason")),
    }


def test_async_backfill_in_a_real_worker_matches_a_sequential_run(real_celery, tmp_path):
    # given a dirty legacy database
    legacy_fixture_build(users=40, sessions=80, attempts=600, bits=50, seed=4, dirty=True,
                         json_dir=tmp_path)  # fmt: skip

    # when the backfill fans out over key ranges to the worker
    run = backfill_run(json_dir=tmp_path, batch_size=40, use_celery=True, parts=3)

    # then the ranges were worked in parallel checkpoints, and nothing is unaccounted
    assert run.status == "done" and run.mode == "async"
    assert BackfillCheckpoint.objects.filter(entity="attempts").count() == 3
    assert all(row["holds"] for row in conservation_report(json_dir=tmp_path))
    after_async = snapshot()
    assert len(after_async["attempts"]) > 500

    # and a full sequential re-read finds exactly the rows the workers wrote
    BackfillCheckpoint.objects.all().delete()
    backfill_run(json_dir=tmp_path, batch_size=40)
    assert snapshot() == after_async
