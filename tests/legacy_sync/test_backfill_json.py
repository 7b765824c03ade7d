"""v1's JSON progress files in the backfill: attempts files (with the dedupe rule against
attempts v1 also stored in its database) and streaks.json."""

import json
from datetime import UTC, timedelta

import pytest

from apps.core.models import Origin
from apps.learning.models import Attempt
from apps.legacy_sync.backfill.json_files import DEDUPE_RULE
from apps.legacy_sync.models import MergedLegacyRow, StreakComparison
from apps.legacy_sync.status import conservation_report
from apps.legacy_sync.v1.models import LegacyAttempt

from .backfill_helpers import backfill, dirty_legacy_build

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)

# Everything the JSON entities need, without the (slow) flashcards.
JSON_STAGES = ["users", "chapters", "bits", "sessions", "attempts", "json_attempts", "json_streaks"]


def entries_of(json_dir, user: int) -> list[dict]:
    path = json_dir / "user_data" / f"attempts_{user}.json"
    return json.loads(path.read_text()) if path.exists() else []


def entries_write(json_dir, user: int, entries: list[dict]) -> None:
    (json_dir / "user_data" / f"attempts_{user}.json").write_text(json.dumps(entries))


def iso_z(moment) -> str:
    return moment.replace(tzinfo=None).isoformat() + "Z"


def conservation_of(name: str, json_dir) -> dict:
    return next(r for r in conservation_report(json_dir=json_dir) if r["entity"] == name)


def test_json_entry_repeating_a_db_attempt_is_merged_into_it_not_copied(tmp_path):
    # given the last DB attempt repeated in its learner's JSON file: once by the dirty fixture,
    # then once exactly, once with the timestamp cut to whole seconds, and once two seconds
    # later (a different answer)
    dirty_legacy_build(tmp_path)
    last = LegacyAttempt.objects.order_by("-pk").first()
    answer = {"exercise_id": last.bit_id, "is_correct": last.correct, "user_answer": "x"}
    at = last.created_at.replace(tzinfo=None)
    own = entries_of(tmp_path, last.user_id)
    entries_write(tmp_path, last.user_id, [
        *own,
        answer | {"timestamp": iso_z(at)},
        answer | {"timestamp": iso_z(at.replace(microsecond=0))},
        answer | {"timestamp": iso_z(at + timedelta(seconds=2))},
    ])  # fmt: skip
    fixture_copy_key = f"{last.user_id:08d}:{len(own) - 1:06d}"
    key = f"{last.user_id:08d}:{len(own):06d}"
    truncated_key = f"{last.user_id:08d}:{len(own) + 1:06d}"
    later_key = f"{last.user_id:08d}:{len(own) + 2:06d}"

    # when the backfill runs
    backfill(tmp_path, names=JSON_STAGES)

    # then every copy is recorded as merged into the DB attempt, by the documented rule
    merged = {
        m.legacy_key: (m.merged_into, m.rule)
        for m in MergedLegacyRow.objects.filter(entity="json_attempts")
    }
    assert merged == {
        fixture_copy_key: (str(last.pk), DEDUPE_RULE),
        key: (str(last.pk), DEDUPE_RULE),
        truncated_key: (str(last.pk), DEDUPE_RULE),
    }
    assert DEDUPE_RULE == "same_learner_bit_verdict_within_1s"
    assert not Attempt.objects.filter(legacy_key__in=[f"json:{key}", f"json:{truncated_key}"])
    same_answer = Attempt.objects.filter(
        learner__legacy_key=str(last.user_id),
        atom__legacy_key=f"bit:{last.bit_id}",
        answered_at=last.created_at.replace(tzinfo=UTC),
    )
    assert list(same_answer.values_list("legacy_key", flat=True)) == [str(last.pk)]
    # and an answer two seconds later is an attempt of its own
    later = Attempt.objects.get(legacy_key=f"json:{later_key}")
    assert later.answered_at == (at + timedelta(seconds=2)).replace(tzinfo=UTC)
    # and merged entries count as migrated: conservation holds
    row = conservation_of("json_attempts", tmp_path)
    assert row["holds"] and row["migrated"] == row["legacy"] == 20 + len(own) + 3


def test_dirty_fixtures_json_copy_of_a_db_attempt_is_merged(tmp_path):
    report = dirty_legacy_build(tmp_path)
    assert report.dirty["json_attempt_duplicates_db"] == 1
    last = LegacyAttempt.objects.order_by("-pk").first()
    copy_key = f"{last.user_id:08d}:{len(entries_of(tmp_path, last.user_id)) - 1:06d}"

    backfill(tmp_path, names=JSON_STAGES)

    assert not Attempt.objects.filter(legacy_key=f"json:{copy_key}").exists()
    assert MergedLegacyRow.objects.filter(
        entity="json_attempts", legacy_key=copy_key, merged_into=str(last.pk), rule=DEDUPE_RULE
    ).exists()


def test_json_attempts_become_attempts_with_their_learner_bit_and_verdict(tmp_path):
    dirty_legacy_build(tmp_path)
    entries = entries_of(tmp_path, 11)

    backfill(tmp_path, names=JSON_STAGES)

    migrated = {
        a.legacy_key: a
        for a in Attempt.objects.filter(
            origin=Origin.LEGACY, legacy_key__startswith="json:00000011:"
        ).select_related("learner", "atom")
    }
    assert sorted(migrated) == [f"json:00000011:{i:06d}" for i in range(len(entries))]
    for i, entry in enumerate(entries):
        attempt = migrated[f"json:00000011:{i:06d}"]
        assert attempt.learner.legacy_key == "11"
        assert attempt.atom.legacy_key == f"bit:{entry['exercise_id']}"
        assert attempt.correct is entry["is_correct"]
        assert attempt.score == (1.0 if entry["is_correct"] else 0.0)
        assert attempt.quality == (4 if entry["is_correct"] else 1)  # kept, not regraded
        assert attempt.response == {"user_answer": entry["user_answer"]}
        assert iso_z(attempt.answered_at) == entry["timestamp"]
        assert attempt.session_id is None


def test_streaks_json_is_compared_with_recomputed_streaks_under_both_key_forms(tmp_path):
    dirty_legacy_build(tmp_path)
    streaks = json.loads((tmp_path / "user_data" / "streaks.json").read_text())
    assert {"user_1", "user_21"} <= set(streaks)  # the user_key_prefixed rows

    backfill(tmp_path, names=JSON_STAGES)

    compared = {c.legacy_key: c for c in StreakComparison.objects.filter(entity="json_streaks")}
    assert set(compared) == set(streaks)
    for key, entry in streaks.items():
        row = compared[key]
        assert row.learner.legacy_key == key.removeprefix("user_")
        assert (row.v1_current, row.v1_longest) == (
            entry["current_streak"], entry["longest_streak"],
        )  # fmt: skip
        assert row.agrees == ((row.v1_current, row.v1_longest) == (row.v2_current, row.v2_longest))
    assert conservation_of("json_streaks", tmp_path)["holds"]
