"""The legacy management commands' contract: ``legacy_status --json`` and ``legacy_backfill``."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.legacy_sync.models import BackfillRun

from .backfill_helpers import ENTITY_NAMES, backfill, dirty_legacy_build

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)


def status(json_dir) -> dict:
    out = io.StringIO()
    call_command("legacy_status", "--json", "--json-dir", str(json_dir), stdout=out)
    return json.loads(out.getvalue())


def test_legacy_status_json_has_the_contract_shape_and_figures(tmp_path):
    # given a database whose users alone are backfilled
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=["users"])

    # when staff ask for the status
    result = status(tmp_path)

    # then it has the contract's three parts
    assert {"entities", "outbox", "reconciliation"} <= set(result)
    assert list(result["entities"]) == ENTITY_NAMES  # all 13, in dependency order
    for name, row in result["entities"].items():
        assert set(row) == {"legacy", "migrated", "quarantined", "pending"}, name
        assert all(isinstance(n, int) for n in row.values()), name
    assert set(result["outbox"]) == {"pending", "oldest_pending_age_s", "dead"}
    assert set(result["reconciliation"]) == {"run_at", "differences"}
    # and its figures: users are done, everything else is pending
    entities = result["entities"]
    assert entities["users"] == {"legacy": 40, "migrated": 37, "quarantined": 3, "pending": 0}
    assert entities["attempts"] == {"legacy": 400, "migrated": 0, "quarantined": 0, "pending": 400}
    assert entities["flashcards"]["pending"] == 60
    # 4 sampled files of 5 entries, plus the last DB attempt's learner's file with its copy
    assert entities["json_attempts"] == {"legacy": 26, "migrated": 0, "quarantined": 0,
                                         "pending": 26}  # fmt: skip
    assert entities["json_streaks"]["legacy"] == 4
    assert result["outbox"] == {"pending": 0, "oldest_pending_age_s": 0.0, "dead": 0}


def test_legacy_status_without_json_files_counts_no_json_rows(tmp_path):
    dirty_legacy_build(tmp_path / "elsewhere")

    entities = status(tmp_path / "missing")["entities"]

    assert entities["json_attempts"] == entities["json_streaks"] == {
        "legacy": 0, "migrated": 0, "quarantined": 0, "pending": 0,
    }  # fmt: skip
    assert entities["users"]["pending"] == 40


def test_legacy_backfill_refuses_an_unknown_entity_by_name(tmp_path):
    with pytest.raises(CommandError, match="Unknown entities: atempts, nope") as excinfo:
        call_command("legacy_backfill", "--entities", "users,atempts,nope",
                     "--json-dir", str(tmp_path), stdout=io.StringIO())  # fmt: skip

    assert "Known: users, chapters" in str(excinfo.value)
    assert not BackfillRun.objects.exists()  # refused before anything ran


def test_legacy_backfill_refuses_a_batch_size_below_one(tmp_path):
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        call_command("legacy_backfill", "--batch-size", "0", "--json-dir", str(tmp_path),
                     stdout=io.StringIO())  # fmt: skip


def test_legacy_backfill_of_chosen_entities_succeeds(tmp_path):
    dirty_legacy_build(tmp_path)
    out = io.StringIO()

    call_command("legacy_backfill", "--entities", "users,chapters", "--batch-size", "10",
                 "--json-dir", str(tmp_path), stdout=out, stderr=io.StringIO())  # fmt: skip

    assert "every legacy row is migrated or quarantined" in out.getvalue()
