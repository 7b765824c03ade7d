"""Experiments between scheduling algorithms: an experiment on a course, its arms (an
algorithm plus parameters, with a share of the traffic) and each learner's assignment."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from .arms import ALGORITHMS, ArmSpecError, arm_parameters_clean


class AssignedBy(models.TextChoices):
    """Who decides a learner's arm. Only a hash experiment's arms are enforced by the scheduler:
    the rollout's arms are the cohorts v1 and adaptive, which change nothing server-side."""

    HASH = "hash", "a hash of the learner, at their first session start in the course"
    ROLLOUT = "rollout", "the v1-versus-adaptive rollout's cohort (its percent flag)"


class Experiment(models.Model):
    """Runs from ``starts_at`` (inclusive) to ``ends_at`` (exclusive). With no course it runs
    on every course (the v1-versus-adaptive rollout is one such)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    course = models.ForeignKey(
        "curriculum.Course",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="experiments",
        help_text="Empty: every course.",
    )
    hypothesis = models.TextField(blank=True)
    assigned_by = models.CharField(
        max_length=8,
        choices=AssignedBy.choices,
        default=AssignedBy.HASH,
        editable=False,
        help_text="Rollout: one period of the v1-versus-adaptive rollout, made and ended by its "
        "percent flag (apps/legacy_sync), which assigns the learners.",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_at", "name"]
        indexes = [models.Index(fields=["course", "starts_at", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="experiment_ends_after_start"
            )
        ]
        permissions = [("view_experiment_analysis", "Can read an experiment's analysis")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": ["Must be after the start."]})

    def is_running(self, at) -> bool:
        return self.starts_at <= at < self.ends_at


class Arm(models.Model):
    """A scheduling algorithm (blank: the course's) with parameter overrides, and its share of
    the traffic: ``weight`` over the sum of the experiment's weights."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="arms")
    key = models.SlugField(max_length=40, help_text="Short name, e.g. control, fsrs90.")
    algorithm = models.CharField(
        max_length=16,
        blank=True,
        choices=[("", "the course's"), *((a, a) for a in ALGORITHMS)],
        help_text="Blank: the course's own algorithm.",
    )
    parameters = models.JSONField(
        default=dict,
        blank=True,
        help_text="Overrides of the course's policy: desired_retention, maximum_interval_days, "
        "new_item_ratio, target_p_correct.",
    )
    weight = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    is_control = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["experiment", "position", "key"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "key"], name="arm_key_unique"),
            models.UniqueConstraint(
                fields=["experiment"], condition=Q(is_control=True), name="arm_one_control"
            ),
            models.CheckConstraint(condition=Q(weight__gte=1), name="arm_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.experiment}: {self.key}"

    def clean(self) -> None:
        try:
            self.parameters = arm_parameters_clean(self.parameters or {})
        except ArmSpecError as exc:
            raise ValidationError({"parameters": [str(exc)]}) from None


class Assignment(models.Model):
    """A learner's arm in an experiment: decided by a hash of (experiment, learner) and
    recorded once, at the first session they start in the course while it runs."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="assignments")
    arm = models.ForeignKey(Arm, on_delete=models.PROTECT, related_name="assignments")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="experiment_assignments"
    )
    assigned_at = models.DateTimeField()
    session = models.ForeignKey(
        "learning.StudySession", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["experiment", "assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "learner"], name="assignment_once_per_experiment"
            )
        ]
        # the hot paths look a learner's arms up by learner
        indexes = [models.Index(fields=["learner", "experiment"])]

    def __str__(self) -> str:
        return f"{self.learner_id} → {self.arm.key}"
