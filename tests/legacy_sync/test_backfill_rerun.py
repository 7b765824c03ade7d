"""The backfill is idempotent and resumable: a second run, a full re-read and a run resumed
after a crash all end exactly where one clean run does."""

import pytest
from django.core.management import call_command

from apps.learning.models import Attempt
from apps.legacy_sync.backfill.practice import Attempts
from apps.legacy_sync.models import BackfillCheckpoint, BackfillRun, QuarantinedRow
from apps.legacy_sync.status import conservation_report
from apps.legacy_sync.v1.models import LegacyAttempt

from .backfill_helpers import (
    BATCH_SIZE,
    WITHOUT_FLASHCARDS,
    backfill,
    checkpoints,
    dirty_legacy_build,
    migration_snapshot,
    seen_counts,
    v2_counts,
)

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)


def test_second_run_and_full_reread_change_nothing(tmp_path):
    # given a finished backfill
    dirty_legacy_build(tmp_path)
    backfill(tmp_path)
    counts, seen, snapshot = v2_counts(), seen_counts(), migration_snapshot()
    assert counts["attempts"] == 365 + 25  # v1 database + JSON files (one JSON entry merged)
    assert set(seen.values()) == {1}

    # when it runs again, then every entity resumes past its last key: nothing changes,
    # not even how often a quarantined row was seen
    second = backfill(tmp_path)
    assert second.status == "done"
    assert v2_counts() == counts
    assert seen_counts() == seen
    assert migration_snapshot() == snapshot

    # when every checkpoint is dropped, forcing a full re-read of v1
    BackfillCheckpoint.objects.all().delete()
    backfill(tmp_path)

    # then deterministic ids and legacy keys let nothing in twice
    assert v2_counts() == counts
    after = migration_snapshot()
    assert after | {"quarantine": None} == snapshot | {"quarantine": None}
    # every quarantined row was really read again (same reason, seen twice now)
    assert seen_counts() == dict.fromkeys(seen, 2)
    assert [q[:4] for q in after["quarantine"]] == [q[:4] for q in snapshot["quarantine"]]
    assert all(row["holds"] for row in conservation_report(json_dir=tmp_path))


def crash_after(monkeypatch, batches: int) -> None:
    """Make Attempts.migrate raise on the batch after ``batches`` good ones, as a killed
    worker would between batches."""
    original = Attempts.migrate
    calls = {"n": 0}

    def migrate(self, rows):
        calls["n"] += 1
        if calls["n"] > batches:
            raise RuntimeError("worker killed")
        return original(self, rows)

    monkeypatch.setattr(Attempts, "migrate", migrate)


def test_run_resumed_after_a_crash_between_batches_ends_like_a_clean_run(tmp_path, monkeypatch):
    # given a backfill killed during its third batch of attempts
    dirty_legacy_build(tmp_path / "crashed")
    crash_after(monkeypatch, batches=2)
    with pytest.raises(RuntimeError, match="worker killed"):
        backfill(tmp_path / "crashed", names=WITHOUT_FLASHCARDS)

    # then the run is marked failed, and the attempts checkpoint is at the last committed batch
    failed = BackfillRun.objects.get()
    assert (failed.status, failed.failure) == ("failed", "RuntimeError: worker killed")
    done_keys = 2 * BATCH_SIZE
    assert checkpoints()["attempts"] == (str(done_keys), done_keys, False)
    assert "json_attempts" not in checkpoints()  # later stages never started
    committed = {
        str(k) for k in LegacyAttempt.objects.filter(pk__lte=done_keys).values_list("pk", flat=True)
    }
    held = set(
        QuarantinedRow.objects.filter(entity="attempts").values_list("legacy_key", flat=True)
    )
    migrated = set(Attempt.objects.values_list("legacy_key", flat=True))
    assert migrated | held == committed and not migrated & held  # the third batch rolled back

    # when it runs again normally
    monkeypatch.undo()
    resumed = backfill(tmp_path / "crashed", names=WITHOUT_FLASHCARDS)
    assert resumed.status == "done"
    assert checkpoints()["attempts"] == ("400", 400, True)  # read once, no batch twice
    after_resume = migration_snapshot()

    # then it matches a clean single run on a fresh copy of the same fixture
    call_command("flush", "--no-input", database="default", verbosity=0)
    dirty_legacy_build(tmp_path / "clean")
    backfill(tmp_path / "clean", names=WITHOUT_FLASHCARDS)
    clean = migration_snapshot()
    assert len(clean["attempts"]) == 365 + 25 and clean["concept_states"]
    for part in clean:
        assert after_resume[part] == clean[part], part
    report = {r["entity"]: r for r in conservation_report(json_dir=tmp_path / "clean")}
    assert report.pop("flashcards")["pending"] == 60  # not run here
    assert all(row["holds"] for row in report.values())
