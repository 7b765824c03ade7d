"""The one way to enqueue Celery work from request or service code: after the commit.

Enqueueing inside a transaction can let a worker run before the data it needs is committed,
or run for data that is then rolled back. In the embedded default Celery is eager, so the
task runs in-process right after the commit.
"""

from celery import Task
from django.db import transaction


def enqueue_on_commit(task: Task, *args, using: str | None = None, **kwargs) -> None:
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs), using=using)
