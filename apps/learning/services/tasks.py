"""Study tasks: a learner marks their planner's tasks done or dismissed.

Tasks came from v1's planner (the legacy backfill and pull write them); v2 only changes their
status. The statuses v2 sets are ``done`` and ``dismissed``; v1's rows are ``open`` or carry
whatever v1 wrote, which is kept and shown as it is.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.services import audit_record
from apps.core.sync_port import rows_changed

from ..models import StudyTask

OPEN = "open"
DONE = "done"
DISMISSED = "dismissed"
SETTABLE_STATUSES = (DONE, DISMISSED)
KNOWN_STATUSES = (OPEN, DONE, DISMISSED)


def study_task_status_set(*, task: StudyTask, status: str, by, source: str = "api") -> StudyTask:
    """Set a task's status to ``done`` or ``dismissed`` (the caller checked the task is
    ``by``'s own). Setting the status it already has changes nothing and records nothing.

    The change is audited (from → to: when it was done) and announced to the sync port as the
    v1 contract's ``tasks`` entity, in the same transaction."""
    if status not in SETTABLE_STATUSES:
        raise ValidationError(
            {"status": [f"A task can be set to {' or '.join(SETTABLE_STATUSES)}, not {status!r}."]}
        )
    with transaction.atomic():
        task = StudyTask.objects.select_for_update().get(pk=task.pk)
        if task.status == status:
            return task
        before = task.status
        task.status = status
        task.save(update_fields=["status"])
        audit_record(actor=by, source=source, action="task_status", target=task,
                     from_state=before, to_state=status)  # fmt: skip
        rows_changed(entity="tasks", ids=[task.pk])
    return task
