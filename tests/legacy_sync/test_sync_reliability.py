"""The live sync under failure, with the real PostgreSQL, Redis and Celery worker processes:
a worker killed mid-batch, a broker that loses its messages, duplicate deliveries, v1 down,
and a bad row inside a pulled batch."""

import os
import signal
import threading
import time
import uuid

import pytest
import redis
from django.conf import settings
from django.db import OperationalError, connection, connections

from apps.learning.models import Attempt
from apps.legacy_sync.live.flags import sync_flags_update
from apps.legacy_sync.live.outbox.push import outbox_drain
from apps.legacy_sync.live.pull import legacy_pull_once
from apps.legacy_sync.models import OutboxEntry, OutboxStatus, QuarantinedRow
from apps.legacy_sync.reconcile import reconcile_run
from apps.legacy_sync.tasks import outbox_drain_task
from config.celery import app as celery_app
from tests.conftest import celery_worker_start, celery_worker_stop

from .sync_helpers import answer, bit_card, legacy_learner, synced_world, v1, v1_count

pytestmark = [
    pytest.mark.django_db(databases=["default", "legacy"], transaction=True),
    pytest.mark.integration,
]
WAIT_S = 60


def wait_for(condition, what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def queued_answers(n: int) -> list[Attempt]:
    """``n`` v2 answers whose outbox entries are queued but not yet sent (the kill switch
    holds the drain back while they are written)."""
    sync_flags_update(kill_switch=True)
    learner, card = legacy_learner(), bit_card()
    attempts = [answer(learner, card) for _ in range(n)]
    sync_flags_update(kill_switch=False)
    assert OutboxEntry.objects.filter(entity="attempts", status=OutboxStatus.PENDING).count() == n
    return attempts


def exactly_once_in_v1(attempts: list[Attempt]) -> None:
    """Every v2 attempt is in v1 once, on the id stored on it, and nothing else was added."""
    keys = []
    for attempt in attempts:
        attempt.refresh_from_db()
        assert attempt.legacy_key and attempt.legacy_key.isdigit()
        keys.append(int(attempt.legacy_key))
    assert len(set(keys)) == len(keys)
    found = v1("SELECT id FROM attempts WHERE id = ANY(%s)", [keys])
    assert sorted(k for (k,) in found) == sorted(keys)


@pytest.fixture
def eager_off():
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.task_default_queue
    conf.task_always_eager = False
    yield conf
    conf.task_always_eager, conf.task_default_queue = saved


def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(tmp_path, eager_off):
    # given 20 queued v2 answers, and a slow v1 (each attempt insert takes 0.3 s)
    synced_world(tmp_path)
    attempts = queued_answers(20)
    v1_before = v1_count("attempts")
    v1("CREATE FUNCTION slow_insert() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(0.3); "
       "RETURN NEW; END $$ LANGUAGE plpgsql")  # fmt: skip
    v1("CREATE TRIGGER slow BEFORE INSERT ON attempts FOR EACH ROW EXECUTE FUNCTION slow_insert()")
    queue = f"test-kill-{uuid.uuid4().hex[:8]}"
    worker, log = celery_worker_start(queue, {"LEGACY_OUTBOX_LEASE_S": "2"})

    # when the worker is SIGKILLed while it writes the batch to v1
    try:
        outbox_drain_task.apply_async(queue=queue)
        wait_for(
            lambda: (
                OutboxEntry.objects.filter(entity="attempts").exclude(legacy_key="").count() == 20
            ),
            "the batch's v1 ids to be reserved",
        )
        time.sleep(1.0)  # inside the slow v1 transaction now
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        celery_worker_stop(worker, log)
    v1("DROP TRIGGER slow ON attempts")

    # then v1 got none of it (its transaction died with the worker) and nothing is lost
    assert v1_count("attempts") == v1_before
    assert OutboxEntry.objects.filter(entity="attempts", status=OutboxStatus.PENDING).count() == 20

    # and after a restart the sweeper resends once the claim lapses: each row exactly once
    worker, log = celery_worker_start(queue, {"LEGACY_OUTBOX_LEASE_S": "2"})
    try:
        time.sleep(2.5)
        outbox_drain_task.apply_async(queue=queue)  # what the beat's sweep sends
        wait_for(
            lambda: not OutboxEntry.objects.filter(status=OutboxStatus.PENDING).exists(),
            "the outbox to drain",
        )
    finally:
        celery_worker_stop(worker, log)
    exactly_once_in_v1(attempts)
    assert v1_count("attempts") == v1_before + 20


def test_lost_broker_messages_are_swept_and_the_outbox_drains(tmp_path, real_celery):
    synced_world(tmp_path)
    celery_app.conf.task_default_queue = f"nobody-{uuid.uuid4().hex[:8]}"  # no one consumes
    learner, card = legacy_learner(), bit_card()

    # given writes flowing whose drain messages the broker then loses (a flushed Redis)
    attempts = [answer(learner, card) for _ in range(10)]
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    assert OutboxEntry.objects.filter(entity="attempts", status=OutboxStatus.PENDING).count() == 10

    # when the beat's sweep runs on the worker
    outbox_drain_task.apply_async(queue=real_celery)

    # then everything reaches v1 once
    wait_for(
        lambda: not OutboxEntry.objects.filter(status=OutboxStatus.PENDING).exists(),
        "the outbox to drain",
    )
    exactly_once_in_v1(attempts)


def test_duplicate_deliveries_and_concurrent_drains_have_one_effect(tmp_path, real_celery):
    synced_world(tmp_path)
    attempts = queued_answers(15)
    v1_before = v1_count("attempts")

    # the same task delivered twice to the worker, and two drains racing in this process
    task_id = str(uuid.uuid4())
    outbox_drain_task.apply_async(queue=real_celery, task_id=task_id)
    outbox_drain_task.apply_async(queue=real_celery, task_id=task_id)
    threads = [threading.Thread(target=_drain_in_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    wait_for(
        lambda: not OutboxEntry.objects.filter(status=OutboxStatus.PENDING).exists(),
        "the outbox to drain",
    )
    exactly_once_in_v1(attempts)
    assert v1_count("attempts") == v1_before + 15


def _drain_in_thread() -> None:
    try:
        outbox_drain()
    finally:
        connections.close_all()


def test_v1_down_learners_keep_working_and_the_outbox_drains_when_it_is_back(
    tmp_path, learner_client
):
    synced_world(tmp_path)
    learner, card = legacy_learner(), bit_card()
    learner_client.force_authenticate(learner)
    legacy = connections["legacy"]
    port = legacy.settings_dict["PORT"]
    legacy.close()
    legacy.settings_dict["PORT"] = "1"  # nothing listens there: v1 is unreachable
    try:
        # learners keep answering; the outbox grows
        for _ in range(5):
            response = learner_client.post(
                "/api/v1/attempts/",
                {"client_attempt_id": str(uuid.uuid4()), "atom": str(card.pk),
                 "response": {"quality": 4}, "time_taken_ms": 900},
                format="json",
            )  # fmt: skip
            assert response.status_code == 201, response.content
        assert OutboxEntry.objects.filter(status=OutboxStatus.PENDING).count() >= 5
        with pytest.raises(OperationalError):
            outbox_drain()
        assert not OutboxEntry.objects.filter(tries__gt=0).exists()  # an outage spends no tries
    finally:
        legacy.close()
        legacy.settings_dict["PORT"] = port

    # when v1 is back, the sweep drains it all
    OutboxEntry.objects.update(next_attempt_at=None)
    outbox_drain()
    assert not OutboxEntry.objects.filter(status=OutboxStatus.PENDING).exists()
    exactly_once_in_v1(list(Attempt.objects.filter(learner=learner, origin="v2")))
    # and v1 and v2 reconcile with nothing unexplained
    run = reconcile_run()
    assert run.status == "clean", list(
        run.diffs.filter(explained=False).values_list("entity", "legacy_key", "kind")
    )


@pytest.fixture
def xp_cap():
    """v2 refuses XP events over 1000, until the test ends: the test is transactional, so the
    constraint would otherwise outlive it and break later tests on the same database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE learning_xpevent ADD CONSTRAINT test_xp_cap CHECK (amount < 1000) "
            "NOT VALID"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE learning_xpevent DROP CONSTRAINT IF EXISTS test_xp_cap")


def test_an_integrity_error_in_a_pulled_batch_quarantines_that_row_only(tmp_path, xp_cap):
    # given v2 refuses XP events over 1000 (a constraint the mapper does not know about)
    synced_world(tmp_path)
    learner = legacy_learner()
    for amount in (10, 5000, 20):
        v1("INSERT INTO points (user_id, reason, amount, created_at) VALUES "
           "(%s, 'lesson_complete', %s, now())", [int(learner.legacy_key), amount])  # fmt: skip

    # when the pull meets them in one batch
    report = legacy_pull_once()

    # then the two good rows are in, and the bad one is quarantined with the database's reason
    assert report.pulled["points"] == 2
    [held] = QuarantinedRow.objects.filter(entity="points", reason="integrity_error")
    assert held.raw["amount"] == 5000 and "test_xp_cap" in held.detail
