"""Enforcing arms: the learner's arm overrides the course's scheduling policy, server-side,
while the experiment runs. Read on the hot paths (the attempt service, next items), so it
costs no statement of its own where a course row is read anyway (``courses_with_arm``: three
correlated subqueries on the learner's assignment index) and one narrow read otherwise
(``learner_arm``); and none at all while no experiment runs on the course: the experiments'
windows (course, start, end) are kept in the process (apps/core/process_memo.py) for
WINDOWS_MEMO_S, so an experiment created or changed in another process is enforced there
within that time (one starting later, at its start)."""

import json
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import CharField, F, JSONField, OuterRef, Q, QuerySet, Subquery, Value
from django.utils import timezone

from apps.core.process_memo import memo_forget, memo_get

from .models import AssignedBy, Assignment, Experiment

ARM_FIELDS = ("experiment_arm_key", "experiment_arm_algorithm", "experiment_arm_parameters")


@dataclass(frozen=True)
class ArmPolicy:
    key: str
    algorithm: str  # "" keeps the course's
    parameters: dict = field(default_factory=dict)

    def applied(self, algorithm: str, desired_retention: float, maximum_interval_days: int):
        """(algorithm, desired retention, maximum interval) with this arm's overrides."""
        return (
            self.algorithm or algorithm,
            self.parameters.get("desired_retention", desired_retention),
            self.parameters.get("maximum_interval_days", maximum_interval_days),
        )


def _running_assignments(learner_id, now, course):
    """The learner's assignments in experiments running at ``now`` on ``course`` (a value or
    an OuterRef) or on every course; a course's own experiment before an all-course one. The
    rollout's periods are left out: their arms (the cohorts) override nothing, and would
    otherwise hide an all-course experiment that started after them."""
    return Assignment.objects.filter(
        Q(experiment__course=course) | Q(experiment__course__isnull=True),
        learner_id=learner_id,
        experiment__starts_at__lte=now,
        experiment__ends_at__gt=now,
        experiment__assigned_by=AssignedBy.HASH,
    ).order_by(F("experiment__course").asc(nulls_last=True), "experiment__starts_at")


WINDOWS_KEY = "experiments:enforced-windows"
WINDOWS_MEMO_S = 10


def _enforced_windows() -> list[tuple]:
    """(course id or None, starts_at, ends_at) of the experiments whose arms are enforced
    (assigned by the hash) that have not ended: few rows, kept in the process."""
    return list(
        Experiment.objects.filter(
            assigned_by=AssignedBy.HASH, ends_at__gt=timezone.now()
        ).values_list("course_id", "starts_at", "ends_at")
    )


def enforced_windows_forget() -> None:
    """An experiment changed in this process: its windows are read again on the next call."""
    memo_forget(WINDOWS_KEY)


def arm_may_apply(now, course_id=None) -> bool:
    """Could some experiment's arm apply at ``now`` (to ``course_id``, or to any course)? True
    whenever unsure: without the process memo (the tests) the arm is always read."""
    if not getattr(settings, "PROCESS_MEMO", True):
        return True
    windows = memo_get(WINDOWS_KEY, WINDOWS_MEMO_S, _enforced_windows)
    return any(
        starts_at <= now < ends_at
        and (course is None or course_id is None or str(course) == str(course_id))
        for course, starts_at, ends_at in windows
    )


def courses_with_arm(queryset: QuerySet, *, learner_id, now) -> QuerySet:
    """Course rows annotated with the learner's arm there (``ARM_FIELDS``; None when not
    assigned): folded into the caller's own read of the courses. Constant None while no
    experiment runs anywhere (no subquery to plan)."""
    if not arm_may_apply(now):
        return queryset.annotate(
            **{name: Value(None, output_field=CharField()) for name in ARM_FIELDS}
        )
    running = _running_assignments(learner_id, now, OuterRef("pk"))
    return queryset.annotate(
        experiment_arm_key=Subquery(running.values("arm__key")[:1]),
        experiment_arm_algorithm=Subquery(running.values("arm__algorithm")[:1]),
        experiment_arm_parameters=Subquery(
            running.values("arm__parameters")[:1], output_field=JSONField()
        ),
    )


def arm_from_row(key, algorithm, parameters) -> ArmPolicy | None:
    if key is None:
        return None
    if isinstance(parameters, str):  # a JSON subquery comes back as text on some backends
        parameters = json.loads(parameters)
    return ArmPolicy(key=key, algorithm=algorithm or "", parameters=parameters or {})


def learner_arm(*, learner_id, course_id, now) -> ArmPolicy | None:
    """The learner's arm in the course at ``now``, or None: one narrow read (none while no
    experiment runs on the course)."""
    if not arm_may_apply(now, course_id):
        return None
    row = (
        _running_assignments(learner_id, now, course_id)
        .values_list("arm__key", "arm__algorithm", "arm__parameters")
        .first()
    )
    return arm_from_row(*row) if row else None
