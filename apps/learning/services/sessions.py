from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.analytics.schema import EventKind
from apps.analytics.services import event_record
from apps.core.errors import DomainConflict
from apps.core.signals import learner_figures_changed_on_commit
from apps.core.sync_port import learner_session_started, rows_changed
from apps.experiments.services import experiment_arms_assign

from ..mistakes import mistakes_open
from ..models import SessionKind, StudySession, XPEvent, XPReason
from .client_clock import client_time_problem

XP_FOR_COMPLETED_SESSION = 20


class NoOpenMistakes(DomainConflict):
    code = "no_open_mistakes"

    def __init__(self, course):
        super().__init__("You have no open mistakes in this course to practise.")
        self.course = course

    def details(self) -> dict:
        return {"course": str(self.course.pk)}


def study_session_start(
    *,
    learner,
    kind: str = "practice",
    course=None,
    device: str = "",
    app_version: str = "",
    started_at: datetime | None = None,
) -> StudySession:
    """A ``mistakes`` session needs a course in which the learner has open mistakes: next items
    then draws only their atoms (apps/scheduler/selectors.py)."""
    if started_at is not None and (problem := client_time_problem(started_at)):
        raise ValidationError({"started_at": [problem]})
    if kind == SessionKind.MISTAKES:
        if course is None:
            raise ValidationError({"course": ["A mistakes session needs a course."]})
        if not mistakes_open(learner=learner, course=course).exists():
            raise NoOpenMistakes(course)
    session = StudySession(
        learner=learner,
        kind=kind,
        course=course,
        device=device,
        app_version=app_version,
        started_at=started_at or timezone.now(),
    )
    session.full_clean(exclude=["learner", "course", "archived_in"])
    with transaction.atomic():
        session.save()
        rows_changed(entity="sessions", ids=[session.pk])
        event_record(EventKind.SESSION_STARTED, learner=learner, course=course,
                     session=session.pk, session_kind=kind, device=device or None)  # fmt: skip
        # the first session in a course while an experiment runs there assigns an arm
        experiment_arms_assign(learner=learner, course_id=course and course.pk,
                               at=timezone.now(), session_id=session.pk)  # fmt: skip
        transaction.on_commit(lambda: learner_session_started(learner))
    return session


class PlacementFinishedElsewhere(DomainConflict):
    code = "placement_finish_required"


def study_session_complete(
    *, session: StudySession, completed_at: datetime | None = None, placement_applied=False
) -> StudySession:
    """Mark the session done (idempotent) and award its XP once, if anything was answered.

    A placement session is finished by the scheduler's ``placement_finish``, which applies
    its result and then calls here with ``placement_applied=True``; any other door is refused,
    so a placement can never be closed without its result.
    """
    if session.kind == SessionKind.PLACEMENT and not placement_applied:
        raise PlacementFinishedElsewhere(
            "A placement test is finished with POST /api/v1/scheduler/placement/finish/, "
            "which applies its result."
        )
    if completed_at is not None and (problem := client_time_problem(completed_at)):
        raise ValidationError({"completed_at": [problem]})
    completed_at = completed_at or timezone.now()
    if completed_at < session.started_at:
        raise ValidationError({"completed_at": ["Cannot be before the session started."]})
    with transaction.atomic():
        locked = StudySession.objects.select_for_update().get(pk=session.pk)
        if locked.completed_at is None:
            locked.completed_at = completed_at
            locked.save(update_fields=["completed_at"])
            rows_changed(entity="sessions", ids=[locked.pk])
            event_record(
                EventKind.SESSION_COMPLETED, learner=locked.learner_id, course=locked.course_id,
                session=locked.pk, session_kind=locked.kind,
                duration_s=int((completed_at - locked.started_at).total_seconds()),
            )  # fmt: skip
        if locked.attempts.filter(archived_in__isnull=True).exists():
            event, created = XPEvent.objects.get_or_create(
                session=locked,
                reason=XPReason.SESSION_COMPLETE,
                defaults={
                    "learner": locked.learner,
                    "amount": XP_FOR_COMPLETED_SESSION,
                    "occurred_at": locked.completed_at,
                },
            )
            if created:
                rows_changed(entity="points", ids=[event.pk])
                # badges for perfect sessions and XP, after the commit (apps/achievements)
                learner_figures_changed_on_commit(
                    learner=locked.learner, kinds={"perfect_sessions", "xp_total"}
                )
    return locked
