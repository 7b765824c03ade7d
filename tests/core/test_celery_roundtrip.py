import time
import uuid

import pytest
from django.db import transaction

from apps.core.dispatch import enqueue_on_commit
from apps.core.models import WorkerHeartbeat
from apps.core.tasks import record_worker_heartbeat

ROUND_TRIP_TIMEOUT_S = 30


def test_enqueue_waits_for_the_commit(django_capture_on_commit_callbacks, db):
    token = uuid.uuid4().hex

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        enqueue_on_commit(record_worker_heartbeat, token=token)
        assert not WorkerHeartbeat.objects.filter(last_token=token).exists()

    assert len(callbacks) == 1
    assert WorkerHeartbeat.objects.get(last_token=token).beats == 1


def test_heartbeat_task_is_idempotent_per_worker(db):
    record_worker_heartbeat.apply(kwargs={"token": "a"})
    record_worker_heartbeat.apply(kwargs={"token": "b"})

    heartbeat = WorkerHeartbeat.objects.get()
    assert (heartbeat.beats, heartbeat.last_token) == (2, "b")


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_task_round_trip_through_broker_and_real_worker(real_celery):
    """A task sent through Redis runs in the separate worker process and writes PostgreSQL."""
    token = uuid.uuid4().hex

    with transaction.atomic():
        enqueue_on_commit(record_worker_heartbeat, token=token)

    deadline = time.monotonic() + ROUND_TRIP_TIMEOUT_S
    while not WorkerHeartbeat.objects.filter(last_token=token).exists():
        assert time.monotonic() < deadline, "the worker never recorded the heartbeat"
        time.sleep(0.2)
    heartbeat = WorkerHeartbeat.objects.get(last_token=token)
    assert heartbeat.worker.startswith("celery@")  # written by the worker, not in-process
