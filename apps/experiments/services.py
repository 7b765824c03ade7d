"""Writes of the experiments app: defining an experiment (the admin's door) and assigning a
learner to an arm (the session service's door)."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from apps.analytics.schema import EventKind
from apps.analytics.services import event_record
from apps.core.services import audit_record

from .arms import arm_index_for_learner
from .models import Arm, AssignedBy, Assignment, Experiment
from .policy import enforced_windows_forget


class ArmsLocked(ValidationError):
    pass


def experiment_arms_check(*, experiment: Experiment, arms: list[Arm]) -> None:
    """Two arms or more, exactly one of them the control. ValidationError otherwise."""
    if len(arms) < 2:
        raise ValidationError("An experiment needs at least two arms.")
    controls = [arm for arm in arms if arm.is_control]
    if len(controls) != 1:
        raise ValidationError("Exactly one arm must be the control.")


def experiment_arms_locked(experiment: Experiment) -> bool:
    """Arms are fixed once a learner is assigned: changing them would change what the
    assigned learners' data measures (and the split the SRM check compares against)."""
    return experiment.pk is not None and experiment.assignments.exists()


def experiment_save(*, experiment: Experiment, arms: list[Arm], by=None, source="admin"):
    """Create or change an experiment with its arms (the whole set), audited. Arms cannot
    change once learners are assigned (ArmsLocked); the name, hypothesis and end can."""
    experiment.full_clean()
    for arm in arms:
        arm.full_clean(exclude=["experiment"])
    experiment_arms_check(experiment=experiment, arms=arms)
    with transaction.atomic():
        created = experiment._state.adding
        if not created:
            locked = Experiment.objects.select_for_update().get(pk=experiment.pk)
            if experiment_arms_locked(locked) and _arms_changed(locked, arms):
                raise ArmsLocked("Learners are assigned already: the arms can no longer change.")
        if created and by is not None and getattr(by, "pk", None):
            experiment.created_by = by
        experiment.save()
        kept = [arm.pk for arm in arms if arm.pk]
        Arm.objects.filter(experiment=experiment).exclude(pk__in=kept).delete()
        # the one-control constraint holds at every statement: clear the flag first
        Arm.objects.filter(experiment=experiment).update(is_control=False)
        for position, arm in enumerate(arms):
            arm.experiment = experiment
            arm.position = position
            arm.save()
        arms_shown = [
            {"key": a.key, "algorithm": a.algorithm, "parameters": a.parameters,
             "weight": a.weight, "control": a.is_control}
            for a in arms
        ]  # fmt: skip
        transaction.on_commit(enforced_windows_forget)
        audit_record(
            actor=by,
            source=source,
            action="experiment_created" if created else "experiment_changed",
            target=experiment,
            details={
                "arms": arms_shown,
                "starts_at": experiment.starts_at.isoformat(),
                "ends_at": experiment.ends_at.isoformat(),
            },
        )
    return experiment


def _arms_changed(experiment: Experiment, arms: list[Arm]) -> bool:
    def shape(rows):
        return sorted(
            (a.key, a.algorithm, sorted(a.parameters.items()), a.weight, a.is_control) for a in rows
        )

    return shape(experiment.arms.all()) != shape(arms)


def experiment_arms_assign(
    *, learner, course_id, at: datetime, session_id=None
) -> list[Assignment]:
    """Assign the learner to an arm of every experiment running at ``at`` on ``course_id``
    (or on every course) that has not assigned them yet, and announce each as an
    ``arm_assigned`` analytics event. The arm is ``arm_index_for_learner``'s: the same
    learner always gets the same arm of an experiment.

    Called when a session starts: the first session in the course while an experiment runs
    assigns, later ones find the assignment and do nothing. Precondition: inside the session
    start's transaction (the event is recorded after its commit; a rollback records
    nothing). Two reads (the experiments not assigned yet, their arms) and one INSERT when
    something is new."""
    pending = list(
        Experiment.objects.filter(
            Q(course__isnull=True) | (Q(course_id=course_id) if course_id else Q(pk__in=[])),
            starts_at__lte=at,
            ends_at__gt=at,
            assigned_by=AssignedBy.HASH,  # the rollout's periods assign by cohort
        )
        .exclude(assignments__learner=learner)
        .prefetch_related("arms")
        .order_by("starts_at", "pk")
    )
    assignments = []
    for experiment in pending:
        arms = sorted(experiment.arms.all(), key=lambda a: (a.position, a.key))
        if not arms:
            continue
        arm = arms[arm_index_for_learner(experiment.pk, learner.pk, [a.weight for a in arms])]
        assignments.append(
            Assignment(
                experiment=experiment, arm=arm, learner=learner, assigned_at=at,
                session_id=session_id,
            )
        )  # fmt: skip
    created = []
    for assignment in assignments:
        try:
            # a racing session start of the same learner may have assigned them a moment ago:
            # the unique constraint decides, in a savepoint so the session still commits
            with transaction.atomic():
                assignment.save(force_insert=True)
        except IntegrityError:
            continue
        created.append(assignment)
        event_record(
            EventKind.ARM_ASSIGNED, learner=learner, course=assignment.experiment.course_id,
            experiment=str(assignment.experiment_id), arm=assignment.arm.key,
        )  # fmt: skip
    return created


def experiment_end(*, experiment: Experiment, at: datetime, by=None, source="admin") -> Experiment:
    """End a running experiment at ``at``, audited: its assignments and analysis are kept, and
    nobody is assigned or scheduled by its arms from then on. Ending one that has already
    ended changes nothing; ``at`` must be after its start (ValidationError)."""
    with transaction.atomic():
        locked = Experiment.objects.select_for_update().get(pk=experiment.pk)
        if locked.ends_at <= at:
            return locked
        if at <= locked.starts_at:
            raise ValidationError("An experiment can only end after it starts.")
        ended_from = locked.ends_at
        locked.ends_at = at
        locked.save(update_fields=["ends_at", "updated_at"])
        transaction.on_commit(enforced_windows_forget)
        audit_record(
            actor=by,
            source=source,
            action="experiment_ended",
            target=locked,
            details={"ends_at": at.isoformat(), "was": ended_from.isoformat()},
        )
    return locked


def experiment_assignment_record(
    *, experiment: Experiment, arm: Arm, learner, at: datetime, session_id=None
) -> Assignment | None:
    """Record an arm that the experiment's own assigner decided (an experiment not assigned by
    the hash, such as a period of the v1-versus-adaptive rollout), once per learner, as an
    ``arm_assigned`` analytics event; None when the learner was assigned already.

    One read when they were, and one INSERT (in a savepoint: a racing call may have inserted
    it a moment ago) when not."""
    if experiment.assigned_by == AssignedBy.HASH:
        raise ValidationError("This experiment assigns learners by its hash, at session start.")
    if arm.experiment_id != experiment.pk:
        raise ValidationError("The arm is not one of the experiment's.")
    if not experiment.is_running(at):
        raise ValidationError("The experiment is not running then.")
    if Assignment.objects.filter(experiment=experiment, learner=learner).exists():
        return None
    assignment = Assignment(experiment=experiment, arm=arm, learner=learner, assigned_at=at,
                            session_id=session_id)  # fmt: skip
    try:
        with transaction.atomic():
            assignment.save(force_insert=True)
    except IntegrityError:
        return None
    event_record(EventKind.ARM_ASSIGNED, learner=learner, course=experiment.course_id,
                 experiment=str(experiment.pk), arm=arm.key)  # fmt: skip
    return assignment
