"""Timed mock tests: a course's blueprint, and each learner's tests drawn from it.

A test's items are pinned to the atom revision published when it was drawn, so a later edit
or re-publication never changes what the learner was shown or how it is marked.
"""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class MockTestBlueprint(models.Model):
    """How a course's mock test is built: sections (a unit or a concept, and how many items
    from it), a time limit and a pass mark."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.OneToOneField(
        "curriculum.Course", on_delete=models.CASCADE, related_name="mock_test_blueprint"
    )
    time_limit_minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(600)],
        help_text="Minutes from the start; then answers are refused and the test is marked.",
    )
    pass_mark_percent = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Share of items that must be right to pass, in percent. A score equal to the "
        "pass mark passes (43 of 50 right is 86%: a pass mark of 86 passes it).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course__title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(pass_mark_percent__gte=1, pass_mark_percent__lte=100),
                name="blueprint_pass_mark_1_100",
            ),
            models.CheckConstraint(
                condition=Q(time_limit_minutes__gte=1), name="blueprint_time_limit_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Mock test of {self.course}"


class BlueprintSection(models.Model):
    """``item_count`` items drawn from one unit's atoms, or from one concept's."""

    blueprint = models.ForeignKey(
        MockTestBlueprint, on_delete=models.CASCADE, related_name="sections"
    )
    position = models.PositiveSmallIntegerField(default=0)
    unit = models.ForeignKey(
        "curriculum.Unit", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    concept = models.ForeignKey(
        "curriculum.Concept", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    item_count = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(200)]
    )

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unit__isnull=False, concept__isnull=True)
                | Q(unit__isnull=True, concept__isnull=False),
                name="blueprint_section_unit_xor_concept",
            ),
            models.CheckConstraint(
                condition=Q(item_count__gte=1), name="blueprint_section_count_positive"
            ),
            models.UniqueConstraint(
                fields=["blueprint", "unit"],
                condition=Q(unit__isnull=False),
                name="blueprint_section_unit_once",
            ),
            models.UniqueConstraint(
                fields=["blueprint", "concept"],
                condition=Q(concept__isnull=False),
                name="blueprint_section_concept_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_count} × {self.label}"

    @property
    def label(self) -> str:
        if self.unit_id:
            return f"unit {self.unit.title}"
        return f"concept {self.concept.text}"


class MockTest(models.Model):
    """One learner's sitting of a course's mock test. The time limit and pass mark are copied
    from the blueprint when it is drawn, so editing the blueprint never re-marks a test."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mock_tests"
    )
    course = models.ForeignKey("curriculum.Course", on_delete=models.CASCADE, related_name="+")
    blueprint = models.ForeignKey(
        MockTestBlueprint, on_delete=models.SET_NULL, null=True, blank=True, related_name="tests"
    )
    # Its answers are attempts in this session (kind mock_test).
    session = models.OneToOneField(
        "learning.StudySession",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mock_test",
    )
    time_limit_s = models.PositiveIntegerField()
    pass_mark_percent = models.PositiveSmallIntegerField()
    item_count = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    auto_submitted = models.BooleanField(
        default=False, help_text="Marked when its time ran out, not by the learner."
    )
    correct_count = models.PositiveSmallIntegerField(null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["learner", "course", "-started_at"]),
            # The sweep of expired tests reads only the open ones.
            models.Index(
                fields=["expires_at"],
                condition=Q(submitted_at__isnull=True),
                name="mock_test_open_expiry",
            ),
        ]
        constraints = [
            # One open test per learner and course: a second start is refused (409), and two
            # racing starts store one.
            models.UniqueConstraint(
                fields=["learner", "course"],
                condition=Q(submitted_at__isnull=True),
                name="mock_test_one_open_per_course",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("started_at")),
                name="mock_test_expires_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Mock test of {self.learner} in {self.course} at {self.started_at:%Y-%m-%d %H:%M}"

    def is_expired(self, now) -> bool:
        """Time is up from ``expires_at`` on (an answer at that instant is too late)."""
        return now >= self.expires_at


class MockTestItem(models.Model):
    """One item of a test, pinned to the revision the learner was shown, and its answer.

    The verdict is copied here from the attempt, so a progress reset (which sets attempts
    aside) never changes a test's result.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    test = models.ForeignKey(MockTest, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    atom = models.ForeignKey("content.LearningAtom", on_delete=models.PROTECT, related_name="+")
    revision = models.ForeignKey("content.AtomRevision", on_delete=models.PROTECT, related_name="+")
    # The blueprint section it was drawn for (kept as the unit or concept, for the result).
    unit = models.ForeignKey(
        "curriculum.Unit", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    concept = models.ForeignKey(
        "curriculum.Concept", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    section_title = models.CharField(max_length=300)
    # The answer, once given
    client_attempt_id = models.UUIDField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    time_taken_ms = models.PositiveIntegerField(default=0)
    answered_at = models.DateTimeField(null=True, blank=True)
    # No database constraint: attempts are partitioned by month on PostgreSQL and cannot be
    # referenced by id alone. Null for an unanswered item, and for an item whose atom was
    # re-published or archived during the test (graded against the pinned revision only).
    attempt = models.ForeignKey(
        "learning.Attempt",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_constraint=False,
        related_name="+",
    )
    correct = models.BooleanField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    feedback = models.TextField(blank=True)
    misconception = models.ForeignKey(
        "curriculum.Misconception",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["test", "position"]
        constraints = [
            models.UniqueConstraint(fields=["test", "position"], name="mock_item_position_once"),
            models.UniqueConstraint(fields=["test", "atom"], name="mock_item_atom_once"),
            models.UniqueConstraint(
                fields=["test", "client_attempt_id"], name="mock_item_client_id_once"
            ),
        ]

    def __str__(self) -> str:
        return f"Item {self.position + 1} of {self.test_id}"
