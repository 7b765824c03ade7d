"""Every Celery task survives a bad minute: transient database errors are retried with
backoff and jitter, and each task's docstring says what a redelivery does."""

import pytest
from django.db import OperationalError

from apps.core.dispatch import TRANSIENT_ERRORS
from config.celery import app
from tests.legacy import LEGACY_SYNC_INSTALLED


def project_tasks():
    app.loader.import_default_modules()
    return sorted(
        (name, task) for name, task in app.tasks.items() if not name.startswith("celery.")
    )


def test_every_task_retries_transient_errors_with_backoff_and_jitter():
    tasks = project_tasks()

    assert len(tasks) >= (13 if LEGACY_SYNC_INSTALLED else 7)
    for name, task in tasks:
        assert set(TRANSIENT_ERRORS) <= set(task.autoretry_for), name
        assert task.retry_backoff and task.retry_jitter and task.max_retries, name
        assert task.__doc__ and "redeliver" in task.__doc__.lower(), (
            f"{name}: say what a redelivery does"
        )


@pytest.mark.django_db
def test_a_task_outlives_a_database_blip(monkeypatch):
    # given item statistics whose first refresh meets a database restart
    from apps.content import tasks
    from apps.content.services import statistics

    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(statistics, "item_statistics_refresh", flaky)
    monkeypatch.setattr(tasks.item_statistics_refresh_task, "retry_backoff", False)

    # when the task runs (eagerly here; a worker retries it after a backoff)
    tasks.item_statistics_refresh_task.apply(throw=False)

    # then it was retried and succeeded
    assert len(calls) == 2
