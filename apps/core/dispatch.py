"""The one way to enqueue Celery work from request or service code: after the commit.

Enqueueing inside a transaction can let a worker run before the data it needs is committed,
or run for data that is then rolled back. In the embedded default Celery is eager, so the
task runs in-process right after the commit.
"""

from celery import Task
from django.db import InterfaceError, OperationalError, transaction

# What a retry can outlive: a database restarting or failing over, a dropped connection, v1
# unreachable for a minute. Every task retries on these with exponential backoff (2 s, 4 s...
# up to 5 min) and jitter, so a fleet of workers does not retry in step; tasks are idempotent,
# so a retry repeats nothing. Other errors are bugs: they fail at once, visibly.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
RETRY_ON_TRANSIENT = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 6,
}


def enqueue_on_commit(task: Task, *args, using: str | None = None, **kwargs) -> None:
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs), using=using)
