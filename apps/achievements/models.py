"""Badges: definitions editors manage in the admin, and the learners who earned them."""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q


class BadgeRule(models.TextChoices):
    """The fixed vocabulary a badge's rule is written in; each names one figure of the
    learner's (apps/achievements/selectors.py: learner_figures) compared with ``threshold``."""

    STREAK_LENGTH = "streak_length", "Streak length (local days in a row, freezes included)"
    XP_TOTAL = "xp_total", "XP total"
    CONCEPTS_MASTERED = "concepts_mastered", "Concepts mastered in a course"
    MOCK_TESTS_PASSED = "mock_tests_passed", "Mock tests passed"
    PERFECT_SESSIONS = "perfect_sessions", "Perfect sessions (completed, every answer right)"


def badge_icon_path(badge, filename: str) -> str:
    return f"badges/{badge.pk}/{filename}"


class Badge(models.Model):
    """A badge and the rule that awards it: ``rule``'s figure reaching ``threshold`` (within
    ``course`` for concepts mastered, where a course is required)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    # Stored through the default storage: django-storages' S3 when AWS_STORAGE_BUCKET_NAME is
    # set, MEDIA_ROOT otherwise (config/settings/base.py), as content media are.
    icon = models.FileField(upload_to=badge_icon_path, max_length=255)
    rule = models.CharField(max_length=32, choices=BadgeRule.choices)
    threshold = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    course = models.ForeignKey(
        "curriculum.Course", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    is_active = models.BooleanField(default=True, help_text="Inactive badges are not awarded.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["rule", "threshold", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(threshold__gte=1), name="badge_threshold_positive"),
            models.CheckConstraint(
                condition=~Q(rule="concepts_mastered") | Q(course__isnull=False),
                name="badge_concepts_mastered_has_course",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LearnerBadge(models.Model):
    """A badge a learner earned: once, whatever retries or races (unique learner, badge)."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    badge = models.ForeignKey(Badge, on_delete=models.CASCADE, related_name="awards")
    earned_at = models.DateTimeField()
    figure = models.PositiveIntegerField(help_text="The learner's figure when it was earned.")

    class Meta:
        ordering = ["-earned_at"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "badge"], name="badge_once_per_learner")
        ]

    def __str__(self) -> str:
        return f"{self.badge} for {self.learner_id}"
