"""``legacy_reconcile``: v1 compared with v2 by counts and hashes over key ranges, bisected
down to the differing rows, explained or not, and repaired (apps/legacy_sync/reconcile/)."""

import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from apps.accounts.models import User
from apps.core.models import Origin
from apps.learning.models import Attempt, Mistake, StudySession, StudyTask
from apps.legacy_sync.backfill.keys import legacy_uuid
from apps.legacy_sync.models import (
    OutboxEntry,
    QuarantinedRow,
    ReconciliationDifference,
    ReconciliationRun,
)
from apps.legacy_sync.reconcile import reconcile_nightly, reconcile_run
from apps.legacy_sync.reconcile.entities import MAPPING_NAMES
from apps.legacy_sync.v1.fixture import legacy_fixture_build
from apps.legacy_sync.v1.models import LegacyAttempt, LegacySession, LegacyUser

from .backfill_helpers import WITHOUT_FLASHCARDS, backfill, dirty_legacy_build
from .sync_helpers import answer, bit_card, legacy_learner, synced_world, v2_session

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)

ALL_BUT_FLASHCARDS = ",".join(name for name in MAPPING_NAMES if name != "flashcards")
BOTH_POSTGRES = all(
    settings.DATABASES[alias]["ENGINE"].endswith("postgresql") for alias in ("default", "legacy")
)
on_postgres = pytest.mark.skipif(
    not BOTH_POSTGRES, reason="the SQL method needs both databases on PostgreSQL"
)
METHODS = ["python", pytest.param("sql", marks=on_postgres)]


def reconcile(*args: str) -> tuple[ReconciliationRun, str]:
    """Run the command; return the run it recorded and its output. Raises CommandError as
    the command does (non-zero exit)."""
    out = io.StringIO()
    try:
        call_command("legacy_reconcile", *args, stdout=out, stderr=io.StringIO())
    finally:
        out.seek(0)
    return ReconciliationRun.objects.order_by("-id").first(), out.getvalue()


def unexplained(run: ReconciliationRun) -> set[tuple[str, str, str]]:
    return set(
        ReconciliationDifference.objects.filter(run=run, explained=False).values_list(
            "entity", "legacy_key", "kind"
        )
    )


def explanations(run: ReconciliationRun) -> dict[tuple[str, str], str]:
    return {
        (d.entity, d.legacy_key): d.explanation
        for d in ReconciliationDifference.objects.filter(run=run, explained=True)
    }


def migrated_key(rows, *, after: int = 10) -> str:
    """The first v1 key above ``after`` whose row was migrated (not held in quarantine);
    ``rows``: a model or a queryset."""
    rows = rows.objects.all() if isinstance(rows, type) else rows
    keys = rows.filter(origin=Origin.LEGACY).values_list("legacy_key", flat=True)
    return str(min(int(k) for k in keys if k.isdigit() and int(k) > after))


def migrated_attempt_key() -> str:
    return migrated_key(Attempt)


def legacy_execute(sql: str, params: list) -> None:
    with connections["legacy"].cursor() as cursor:
        cursor.execute(sql, params)


def test_a_backfilled_dirty_fixture_reconciles_clean_with_its_quarantine_explained(tmp_path):
    # given the dirty fixture, backfilled in full
    dirty_legacy_build(tmp_path)
    backfill(tmp_path)

    # when staff reconcile
    run, out = reconcile()

    # then the command succeeds: nothing is unexplained
    assert run.status == "clean"
    assert (run.differences, run.repaired) == (0, 0)
    assert "0 unexplained difference(s)" in out
    # and the quarantined rows are the differences, explained by their reasons
    why = explanations(run)
    assert why[("users", "2")] == "quarantined: duplicate_email"
    assert why[("users", "3")] == "quarantined: duplicate_email"
    assert why[("users", "4")] == "quarantined: invalid_timezone"
    assert why[("sessions", "1")] == "quarantined: missing_timestamp"
    assert why[("attempts", "1")] == "quarantined: unknown_bit"
    assert why[("attempts", "2")] == "quarantined: unknown_user"
    assert why[("flashcards", "1")] == "quarantined: malformed_json_back"
    assert why[("flashcards", "2")] == "quarantined: empty_front"
    assert run.explained == len(why)
    # and every entity was compared, with both sides' counts; held rows are counted apart
    assert set(run.entities) == set(MAPPING_NAMES)
    users = run.entities["users"]
    assert (users["v1_rows"], users["v2_rows"], users["held"]) == (40, 37, 3)
    # and per-learner counts agree once quarantined attempts are left out of v1's
    learners = run.entities["learner_attempts"]
    assert learners["differences"] == learners["explained"] == 0
    assert learners["v2_rows"] == learners["v1_rows"] == 30  # the learners with migrated attempts
    assert run.entities["attempts"]["v1_rows"] == 400
    assert all(entry["seconds"] >= 0 for entry in run.entities.values())


@pytest.mark.parametrize("method", METHODS)
def test_a_deleted_v2_row_an_edited_and_an_extra_v1_row_are_found_by_key(tmp_path, method):
    # given a backfilled dirty fixture
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=WITHOUT_FLASHCARDS)
    # and then: a migrated attempt deleted in v2, a v1 user renamed, a v1 point added
    deleted = migrated_attempt_key()
    learner = str(LegacyAttempt.objects.get(pk=int(deleted)).user_id)
    Attempt.objects.filter(origin=Origin.LEGACY, legacy_key=deleted).delete()
    LegacyUser.objects.filter(pk=5).update(display_name="Renamed in v1")
    legacy_execute(
        "INSERT INTO points (id, user_id, reason, amount, created_at) VALUES (%s, %s, %s, %s, %s)",
        [1000, 7, "streak_bonus", 5, datetime(2025, 6, 1)],
    )

    # when staff reconcile
    with pytest.raises(CommandError, match="4 unexplained difference"):
        reconcile("--entities", ALL_BUT_FLASHCARDS, "--method", method)

    # then exactly those rows are unexplained, with their keys (and the learner's count)
    run = ReconciliationRun.objects.latest("id")
    assert run.status == "differences"
    assert unexplained(run) == {
        ("attempts", deleted, "missing_in_v2"),
        ("learner_attempts", learner, "mismatch"),
        ("users", "5", "mismatch"),
        ("points", "1000", "missing_in_v2"),
    }
    # and each carries both sides' values
    renamed = ReconciliationDifference.objects.get(run=run, entity="users", legacy_key="5")
    assert renamed.v1_values["display_name"] == "Renamed in v1"
    assert renamed.v2_values["display_name"] == "User 5"
    assert renamed.v2_values["origin"] == "legacy"
    gone = ReconciliationDifference.objects.get(run=run, entity="attempts", legacy_key=deleted)
    assert gone.v2_values is None and gone.v1_values["user"] == learner
    count = ReconciliationDifference.objects.get(run=run, entity="learner_attempts",
                                                 legacy_key=learner)  # fmt: skip
    assert count.v1_values["attempts"] == count.v2_values["attempts"] + 1
    assert run.entities["points"]["v1_rows"] == run.entities["points"]["v2_rows"] + 4


def test_json_output_lists_the_unexplained_differences(tmp_path):
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=["users"])
    LegacyUser.objects.filter(pk=6).update(timezone="Asia/Tokyo")
    out = io.StringIO()

    with pytest.raises(CommandError, match="1 unexplained"):
        call_command("legacy_reconcile", "--entities", "users", "--json", stdout=out)

    result = json.loads(out.getvalue())
    assert (result["status"], result["differences"], result["explained"]) == ("differences", 1, 3)
    assert set(result["entities"]) == {"users"}
    [difference] = result["unexplained"]
    assert (difference["entity"], difference["legacy_key"], difference["kind"]) == (
        "users", "6", "mismatch",
    )  # fmt: skip
    assert difference["v1_values"]["timezone"] == "Asia/Tokyo"


def test_an_unknown_entity_is_refused_by_name():
    with pytest.raises(CommandError, match="Unknown entities: atempts"):
        reconcile("--entities", "users,atempts")
    assert not ReconciliationRun.objects.exists()


@pytest.mark.parametrize("method", METHODS)
def test_bisection_finds_one_difference_among_many_rows_fetching_few(tmp_path, method):
    # given a clean fixture with 3000 attempts, backfilled, and one v1 attempt edited
    legacy_fixture_build(users=40, sessions=200, attempts=3_000, bits=50, seed=3,
                         json_dir=tmp_path)  # fmt: skip
    backfill(tmp_path, names=["users", "chapters", "bits", "sessions", "attempts"])
    LegacyAttempt.objects.filter(pk=1234).update(user_answer="edited in v1")

    # when the attempts are reconciled, halving ranges until one holds 8 rows
    run = reconcile_run(entities=["attempts"], method=method, parts=2, row_threshold=8)

    # then the one attempt is found
    assert unexplained(run) == {("attempts", "1234", "mismatch")}
    difference = ReconciliationDifference.objects.get(run=run)
    assert difference.v1_values["user_answer"] == "edited in v1"
    assert difference.v2_values["user_answer"] != "edited in v1"
    # by bisecting: two ranges compared per level, one range compared row by row, and no
    # more than the threshold's rows fetched from each side
    summary = run.entities["attempts"]
    assert (summary["v1_rows"], summary["v2_rows"]) == (3_000, 3_000)
    assert summary["levels"] >= 9  # 3000 → 8 rows: about log2(3000 / 8)
    assert summary["ranges_compared"] == 2 * summary["levels"]
    assert summary["row_ranges"] == 1
    assert 2 <= summary["rows_fetched"] <= 2 * 8


def test_an_equal_entity_costs_one_aggregate_query_per_side(tmp_path):
    legacy_fixture_build(users=40, sessions=60, attempts=400, bits=50, seed=3, json_dir=tmp_path)
    backfill(tmp_path, names=["users", "chapters", "bits", "sessions", "attempts"])

    run = reconcile_run(entities=["users", "sessions", "attempts"])

    for name, summary in run.entities.items():
        assert summary["differences"] == summary["explained"] == 0, name
        assert summary["row_ranges"] == summary["rows_fetched"] == 0, name
        assert summary["queries"] == 3, name  # v1's key range, one tally per side
        assert summary["levels"] == 1, name


def test_repair_migrates_missing_rows_refreshes_a_changed_session_and_the_rerun_is_clean(
    tmp_path,
):
    # given a backfilled dirty fixture, then a v2 attempt and mistake deleted, a v1 attempt
    # added and a v1 session completed later than v2 knows
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=WITHOUT_FLASHCARDS)
    deleted = migrated_attempt_key()
    Attempt.objects.filter(origin=Origin.LEGACY, legacy_key=deleted).delete()
    Mistake.objects.filter(origin=Origin.LEGACY, legacy_key="10").delete()
    template = LegacyAttempt.objects.get(pk=int(deleted))
    legacy_execute(
        "INSERT INTO attempts (id, session_id, user_id, bit_id, correct, user_answer, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [5000, template.session_id, template.user_id, template.bit_id, True, "added",
         datetime(2025, 7, 1, 9, 30)],
    )  # fmt: skip
    session = StudySession.objects.get(origin=Origin.LEGACY, legacy_key=str(template.session_id))
    completed = session.started_at + timedelta(hours=2)
    legacy_execute("UPDATE sessions SET completed_at = %s WHERE id = %s",
                   [completed.replace(tzinfo=None), template.session_id])  # fmt: skip

    # when staff reconcile with --repair
    with pytest.raises(CommandError, match=r"4 unexplained difference.*4 repaired"):
        reconcile("--entities", ALL_BUT_FLASHCARDS, "--repair")

    # then the four differences are repaired
    repaired = ReconciliationRun.objects.latest("id")
    assert unexplained(repaired) == {
        ("attempts", deleted, "missing_in_v2"),
        ("attempts", "5000", "missing_in_v2"),
        ("mistake_logs", "10", "missing_in_v2"),
        ("sessions", str(template.session_id), "mismatch"),
    }
    assert repaired.repaired == 4
    assert not ReconciliationDifference.objects.filter(run=repaired, explained=False,
                                                       repaired=False).exists()  # fmt: skip
    # and v2 holds v1's rows again, under their deterministic ids
    restored = Attempt.objects.get(pk=legacy_uuid("attempts", deleted))
    assert (restored.correct, restored.session_id) == (template.correct, session.pk)
    added = Attempt.objects.get(origin=Origin.LEGACY, legacy_key="5000")
    assert added.response == {"user_answer": "added"}
    session.refresh_from_db()
    assert session.completed_at == completed
    # and the session kept its attempts through the swap
    assert Attempt.objects.filter(session=session).count() >= 2

    # and a second run is clean
    rerun, _ = reconcile("--entities", ALL_BUT_FLASHCARDS)
    assert rerun.status == "clean"
    assert rerun.differences == 0


def test_repair_leaves_a_changed_user_to_staff(tmp_path):
    # given a migrated user renamed in v1
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=["users"])
    LegacyUser.objects.filter(pk=5).update(display_name="Renamed in v1")

    # when staff reconcile with --repair
    with pytest.raises(CommandError, match="1 unexplained"):
        reconcile("--entities", "users", "--repair")

    # then v2's account is untouched and the difference says why
    difference = ReconciliationDifference.objects.get(entity="users", legacy_key="5")
    assert not difference.repaired
    assert difference.explanation.startswith("not repaired: a v2 account has a password")
    assert User.objects.get(legacy_key="5").display_name == "User 5"
    with pytest.raises(CommandError, match="1 unexplained"):
        reconcile("--entities", "users")


def test_a_v2_only_row_is_explained_by_its_outbox_entry(tmp_path):
    # given migrated users and tasks, then three v2-origin tasks without legacy keys: one the
    # outbox marked v2-only, one it gave up on, one it was never asked to push
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=["users", "tasks"])
    learner = User.objects.get(legacy_key="5")
    v2_only, dead, native = (StudyTask.objects.create(learner=learner, title=f"v2 task {n}")
                             for n in range(3))  # fmt: skip
    OutboxEntry.objects.create(entity="tasks", v2_id=str(v2_only.pk), status="v2_only",
                               last_error="v1 tasks need a course name")  # fmt: skip
    OutboxEntry.objects.create(entity="tasks", v2_id=str(dead.pk), status="dead", tries=8,
                               last_error="v1 refused the row")  # fmt: skip

    # when the tasks are reconciled
    run = reconcile_run(entities=["tasks"])

    # then the v2-only task is missing in v1, explained by the outbox's reason
    explained = ReconciliationDifference.objects.get(run=run, legacy_key=f"v2:{v2_only.pk}")
    assert (explained.kind, explained.explained) == ("missing_in_v1", True)
    assert explained.explanation == "v1 tasks need a course name"
    # and the dead one is not explained; the native one is no v1 row at all
    assert unexplained(run) == {("tasks", f"v2:{dead.pk}", "missing_in_v1")}
    assert not ReconciliationDifference.objects.filter(legacy_key=f"v2:{native.pk}").exists()
    assert run.entities["tasks"]["v2_only"] == 2

    # and a repair queues the dead one again, which then counts as queued
    reconcile_run(entities=["tasks"], repair=True)
    assert OutboxEntry.objects.filter(v2_id=str(dead.pk), status="pending").count() == 1
    again = reconcile_run(entities=["tasks"])
    assert again.status == "clean"
    queued = ReconciliationDifference.objects.get(run=again, legacy_key=f"v2:{dead.pk}")
    assert queued.explanation == "queued in the outbox"


def test_a_pushed_v2_row_that_v1_lost_is_queued_in_the_outbox_by_repair(tmp_path):
    # given a v2-origin task the outbox once pushed to v1 as "task-v2-1", gone from v1 since
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=["users", "tasks"])
    task = StudyTask.objects.create(learner=User.objects.get(legacy_key="5"), title="Plan")
    StudyTask.objects.filter(pk=task.pk).update(legacy_key="task-v2-1")  # origin stays v2

    # when reconciled, it is missing in v1 and unexplained
    found = reconcile_run(entities=["tasks"])
    assert unexplained(found) == {("tasks", "task-v2-1", "missing_in_v1")}

    # and a repair creates the pending outbox entry that pushes it again
    reconcile_run(entities=["tasks"], repair=True)
    entry = OutboxEntry.objects.get(entity="tasks", v2_id=str(task.pk))
    assert (entry.status, entry.legacy_key) == ("pending", "task-v2-1")
    again = reconcile_run(entities=["tasks"])
    assert again.status == "clean"
    assert explanations(again)[("tasks", "task-v2-1")] == "queued in the outbox"


@on_postgres
def test_a_migrated_row_with_an_unexpected_id_is_still_compared(tmp_path):
    # given a migrated mistake whose v2 id is not the one the backfill derives from its key
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=["users", "chapters", "bits", "mistake_logs"])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE learning_mistake SET id = %s WHERE legacy_key = '20'",
                       [uuid.uuid4()])  # fmt: skip
    legacy_execute("UPDATE mistake_logs SET raw_text = 'edited' WHERE id = 30", [])

    # when mistakes are reconciled with many levels of bisection
    run = reconcile_run(entities=["mistake_logs"], method="sql", parts=2, row_threshold=2)

    # then ranges are not narrowed by id, and only the edited row differs
    assert run.entities["mistake_logs"]["misplaced_ids"] == 1
    assert unexplained(run) == {("mistake_logs", "30", "mismatch")}


@on_postgres
def test_sql_and_python_methods_agree(tmp_path):
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=WITHOUT_FLASHCARDS)
    Attempt.objects.filter(origin=Origin.LEGACY, legacy_key=migrated_attempt_key()).delete()
    completed = StudySession.objects.filter(origin=Origin.LEGACY, completed_at__isnull=False)
    session = migrated_key(completed.exclude(legacy_key__contains="@"))
    LegacySession.objects.filter(pk=int(session)).update(completed_at=None)
    legacy_execute("UPDATE review_cards SET ease = 2.7 WHERE id = 50", [])
    names = [name for name in MAPPING_NAMES if name != "flashcards"]

    by_sql = reconcile_run(entities=names, method="sql", parts=4, row_threshold=4)
    by_python = reconcile_run(entities=names, method="python", parts=4, row_threshold=4)

    def found(run) -> set:
        return set(
            ReconciliationDifference.objects.filter(run=run).values_list(
                "entity", "legacy_key", "kind", "explained"
            )
        )

    assert found(by_sql) == found(by_python)
    assert ("review_cards", "50", "mismatch") in unexplained(by_sql)
    assert ("sessions", session, "mismatch") in unexplained(by_sql)


def test_the_nightly_function_records_a_run_and_returns_its_id(tmp_path):
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=WITHOUT_FLASHCARDS)

    run_id = reconcile_nightly()

    run = ReconciliationRun.objects.get(pk=run_id)
    assert run.finished_at is not None
    # flashcards were not backfilled here: each is an unexplained missing row
    assert run.status == "differences"
    assert run.entities["flashcards"]["differences"] == run.differences == 60
    # and legacy_status reports it
    out = io.StringIO()
    call_command("legacy_status", "--json", "--json-dir", str(tmp_path), stdout=out)
    assert json.loads(out.getvalue())["reconciliation"]["differences"] == 60


def test_a_failure_marks_the_run_failed(tmp_path, monkeypatch):
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=["users"])

    def broken(*args, **kwargs):
        raise RuntimeError("the legacy database went away")

    monkeypatch.setattr("apps.legacy_sync.reconcile.runner.differences_bisect", broken)
    with pytest.raises(RuntimeError):
        reconcile_run(entities=["users"])

    run = ReconciliationRun.objects.get()
    assert run.status == "failed"
    assert "the legacy database went away" in run.failure


def test_timestamps_are_compared_in_utc(tmp_path):
    # given a migrated session whose v1 start moves by one microsecond
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=["users", "chapters", "sessions"])
    key = migrated_key(StudySession)
    session = LegacySession.objects.get(pk=int(key))
    moved = session.started_at.astimezone(UTC) + timedelta(microseconds=1)
    LegacySession.objects.filter(pk=int(key)).update(started_at=moved)

    run = reconcile_run(entities=["sessions"])

    assert unexplained(run) == {("sessions", key, "mismatch")}


def test_a_quarantined_row_that_v2_has_all_the_same_is_one_unexplained_mismatch(tmp_path):
    # given user 5 migrated, and (conservation broken) also held in quarantine
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=["users"])
    QuarantinedRow.objects.create(entity="users", legacy_key="5", reason="invalid_email", raw={})

    run = reconcile_run(entities=["users"])

    difference = ReconciliationDifference.objects.get(run=run, legacy_key="5")
    assert (difference.kind, difference.explained) == ("mismatch", False)
    assert difference.explanation == "v1's row is held in quarantine, yet v2 has it"
    assert difference.v1_values["email"] == difference.v2_values["email"] == "user5@example.com"
    assert run.differences == 1
    # and a repair leaves it to the quarantine's staff
    repaired = reconcile_run(entities=["users"], repair=True)
    difference = ReconciliationDifference.objects.get(run=repaired, legacy_key="5")
    assert not difference.repaired
    assert difference.explanation.startswith("not repaired: the row is in quarantine too")


def test_rows_the_outbox_pushed_to_v1_reconcile_clean(tmp_path):
    # given dual write on, and a migrated learner practising in a v2 session: the outbox
    # pushes the session and the attempts to v1 (Celery is eager here)
    synced_world(tmp_path)
    learner, card = legacy_learner(), bit_card()
    session = v2_session(learner, card)
    answer(learner, card, session=session)
    answer(learner, card, session=session, quality=1)
    pushed = Attempt.objects.filter(origin=Origin.V2, legacy_key__isnull=False)
    assert pushed.count() == 2

    # when reconciled
    run = reconcile_run(entities=["users", "sessions", "attempts", "learner_attempts", "points"])

    # then the pushed rows stand for their v1 rows: nothing is unexplained
    assert unexplained(run) == set()
    attempts = run.entities["attempts"]
    assert attempts["v1_rows"] - attempts["held"] == attempts["v2_rows"]
    assert not ReconciliationDifference.objects.filter(
        run=run, legacy_key__in=list(pushed.values_list("legacy_key", flat=True))
    ).exists()
