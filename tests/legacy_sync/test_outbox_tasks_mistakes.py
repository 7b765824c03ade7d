"""Study tasks and mistakes under dual write: a learner's task status and wrong answers reach
v1's ``tasks`` and ``mistake_logs`` through the outbox, never come back through the pull,
reconcile clean, and a repair never undoes a learner's task status."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction

from apps.core.models import Origin
from apps.learning.models import Mistake, StudyTask
from apps.learning.services.tasks import study_task_status_set
from apps.legacy_sync.live.flags import sync_flags_update
from apps.legacy_sync.live.outbox import outbox_record
from apps.legacy_sync.live.outbox.push import outbox_drain
from apps.legacy_sync.live.pull import legacy_pull_once
from apps.legacy_sync.models import OutboxEntry, OutboxStatus, ReconciliationDifference
from apps.legacy_sync.reconcile import reconcile_run

from .sync_helpers import answer, bit_card, legacy_learner, synced_world, v1, v1_count

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)


def open_task() -> StudyTask:
    """A migrated learner's open task, as the backfill brought it from v1."""
    return (
        StudyTask.objects.filter(origin=Origin.LEGACY, status="open")
        .select_related("learner")
        .order_by("legacy_key")
        .first()
    )


def v1_task_status(task: StudyTask) -> str:
    [(status,)] = v1("SELECT status FROM tasks WHERE id = %s", [task.legacy_key])
    return status


def reconcile_clean(entities: str) -> None:
    """``legacy_reconcile`` exits 0: no difference is unexplained."""
    call_command("legacy_reconcile", "--entities", entities, stdout=io.StringIO())


def test_a_task_marked_done_in_v2_reaches_v1s_row_and_reconciles_clean(tmp_path):
    # given a migrated open task, dual write on
    synced_world(tmp_path)
    task = open_task()
    [(title, course, priority)] = v1(
        "SELECT title, course, priority FROM tasks WHERE id = %s", [task.legacy_key]
    )
    tasks_in_v1, tasks_in_v2 = v1_count("tasks"), StudyTask.objects.count()

    # when the learner marks it done (PATCH /tasks/{id}/ runs this service)
    study_task_status_set(task=task, status="done", by=task.learner)

    # then v1's own row is done, its other columns as v1 wrote them, and no row was added
    assert v1_task_status(task) == "done"
    assert v1("SELECT title, course, priority FROM tasks WHERE id = %s", [task.legacy_key]) == [
        (title, course, priority)
    ]
    assert v1_count("tasks") == tasks_in_v1
    entry = OutboxEntry.objects.get(entity="tasks", v2_id=str(task.pk))
    assert (entry.status, entry.legacy_key) == (OutboxStatus.SENT, task.legacy_key)

    # and the pull does not bring it back, and the reconciliation is clean
    legacy_pull_once()
    assert StudyTask.objects.count() == tasks_in_v2
    reconcile_clean("tasks")

    # and a repair leaves the learner's status alone
    reconcile_run(entities=["tasks"], repair=True)
    task.refresh_from_db()
    assert task.status == "done"


def test_repair_never_undoes_a_v2_status_that_v1_has_not_received(tmp_path):
    # given a task the learner dismissed in v2 while the kill switch held the outbox
    synced_world(tmp_path)
    task = open_task()
    sync_flags_update(kill_switch=True)
    study_task_status_set(task=task, status="dismissed", by=task.learner)
    assert v1_task_status(task) == "open"

    # when reconciled with --repair while the entry waits, it is explained and kept
    run = reconcile_run(entities=["tasks"], repair=True)
    queued = ReconciliationDifference.objects.get(run=run, legacy_key=task.legacy_key)
    assert (queued.explained, queued.explanation) == (True, "queued in the outbox")
    task.refresh_from_db()
    assert task.status == "dismissed"

    # and when the push gave up on it (dead), the repair queues v2's status again, not v1's
    OutboxEntry.objects.filter(entity="tasks").update(status=OutboxStatus.DEAD)
    sync_flags_update(kill_switch=False)
    run = reconcile_run(entities=["tasks"], repair=True)
    difference = ReconciliationDifference.objects.get(run=run, legacy_key=task.legacy_key)
    assert difference.repaired and difference.explanation == "repaired: queued in the outbox"
    task.refresh_from_db()
    assert task.status == "dismissed"

    # then the drain brings v1 in line and the next run is clean
    outbox_drain()
    assert v1_task_status(task) == "dismissed"
    reconcile_clean("tasks")


def test_a_task_v1_changed_elsewhere_too_is_left_to_staff(tmp_path):
    # given a task done in v2 (pushed), whose title v1 then changed and status reopened
    synced_world(tmp_path)
    task = open_task()
    title = task.title
    study_task_status_set(task=task, status="done", by=task.learner)
    v1("UPDATE tasks SET title = 'Renamed in v1', status = 'open' WHERE id = %s",
       [task.legacy_key])  # fmt: skip

    # when repaired, neither side's change is thrown away unattended
    run = reconcile_run(entities=["tasks"], repair=True)
    difference = ReconciliationDifference.objects.get(run=run, legacy_key=task.legacy_key)
    assert not difference.repaired
    assert difference.explanation.startswith("not repaired: v2 changed its status and v1")
    task.refresh_from_db()
    assert (task.status, task.title) == ("done", title)


def test_a_task_v2_created_is_pushed_under_a_text_id_and_not_pulled_back(tmp_path):
    # given a v2-origin task (no v1 id yet) the outbox is asked to push
    synced_world(tmp_path)
    learner = legacy_learner()
    task = StudyTask.objects.create(learner=learner, title="Plan the week", priority=2)
    with transaction.atomic():
        outbox_record(entity="tasks", v2_ids=[task.pk])

    # then v1 has it under a text id recorded on the v2 row
    task.refresh_from_db()
    assert task.origin == Origin.V2 and task.legacy_key == f"task-v2-{task.pk.hex}"
    [(user_id, title, status)] = v1(
        "SELECT user_id, title, status FROM tasks WHERE id = %s", [task.legacy_key]
    )
    assert (str(user_id), title, status) == (learner.legacy_key, "Plan the week", "open")

    # and the pull skips it, and the reconciliation sees the two sides equal
    count = StudyTask.objects.count()
    legacy_pull_once()
    assert StudyTask.objects.count() == count
    reconcile_clean("tasks")


def test_a_wrong_answers_mistake_reaches_v1s_log_once_and_is_not_pulled_back(tmp_path):
    # given a migrated learner answering a v1 bit's card in v2, dual write on
    synced_world(tmp_path)
    learner, card = legacy_learner(), bit_card()
    logged = v1_count("mistake_logs")

    # when they answer wrong
    attempt = answer(learner, card, quality=1)

    # then the mistake is in v1's log, on the v1 id stored on the v2 row
    mistake = Mistake.objects.get(attempt_id=attempt.pk)
    assert mistake.origin == Origin.V2 and mistake.legacy_key.isdigit()
    [(user_id, bit_id, code, raw_text)] = v1(
        "SELECT user_id, bit_id, template_code, raw_text FROM mistake_logs WHERE id = %s",
        [int(mistake.legacy_key)],
    )
    assert (str(user_id), str(bit_id)) == (learner.legacy_key, mistake.concept.legacy_key)
    assert (code, raw_text) == ("WRONG_ANSWER", mistake.raw_text)
    assert v1_count("mistake_logs") == logged + 1

    # and pulling v1 (twice) does not bring it back as a second mistake
    mistakes = Mistake.objects.count()
    legacy_pull_once()
    legacy_pull_once()
    assert Mistake.objects.count() == mistakes

    # when two correct answers clear it, v1's log (which has no clearing) keeps the one row
    answer(learner, card)
    answer(learner, card)
    mistake.refresh_from_db()
    assert mistake.cleared_at is not None
    assert v1_count("mistake_logs") == logged + 1
    assert (
        not OutboxEntry.objects.filter(entity="mistake_logs")
        .exclude(status=OutboxStatus.SENT)
        .exists()
    )

    # and the reconciliation of mistakes (and tasks) is clean
    reconcile_clean("mistake_logs,tasks")
