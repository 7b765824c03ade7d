import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from apps.core.models import OriginTracked, origin_unique_constraint

# The most a daily limit (a course's, or a learner's own) may be: past it a limit means nothing.
DAILY_LIMIT_MAX = 9999


class SchedulingAlgorithm(models.TextChoices):
    SM2 = "sm2", "SM-2"
    FSRS = "fsrs", "FSRS"
    HLR = "hlr", "Half-life regression"
    LEITNER = "leitner", "Leitner boxes"


class Course(OriginTracked):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    language = models.CharField(
        max_length=35, blank=True, help_text="BCP 47 language tag of the course, e.g. en-GB, de."
    )
    jurisdiction = models.CharField(
        max_length=35, blank=True, help_text="Where the content applies, e.g. GB for UK driving."
    )
    default_algorithm = models.CharField(
        max_length=16, choices=SchedulingAlgorithm.choices, default=SchedulingAlgorithm.SM2
    )
    is_published = models.BooleanField(default=False, help_text="Visible to learners in the API.")
    # Scheduling: how next items are chosen for this course (see README, "Next items").
    desired_retention = models.FloatField(
        default=0.9, help_text="FSRS: the recall probability reviews are scheduled for."
    )
    maximum_interval_days = models.PositiveIntegerField(default=365)
    new_item_ratio = models.FloatField(
        default=0.3, help_text="Share of a batch of next items given to new (unseen) atoms."
    )
    mastery_threshold = models.FloatField(
        default=0.8, help_text="A concept is introduced once its prerequisites reach this."
    )
    target_p_correct = models.FloatField(
        default=0.75, help_text="Difficulty match: aim for items answered right this often."
    )
    weight_due = models.FloatField(default=1.0)
    weight_mastery_gap = models.FloatField(default=0.6)
    weight_difficulty_match = models.FloatField(default=0.4)
    weight_exploration = models.FloatField(default=0.2)
    # Daily limits (Anki's defaults): what next items offers per learner day, unless the
    # learner set their own (User.daily_new_limit / daily_review_limit) or asks for extra.
    new_per_day = models.PositiveIntegerField(
        default=20,
        validators=[MaxValueValidator(DAILY_LIMIT_MAX)],
        help_text="New (never answered) atoms a learner is offered per day; 0 for none.",
    )
    reviews_per_day = models.PositiveIntegerField(
        default=200,
        validators=[MaxValueValidator(DAILY_LIMIT_MAX)],
        help_text="Atoms already answered on an earlier day a learner is offered per day.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_algorithm__in=SchedulingAlgorithm.values),
                name="course_default_algorithm_valid",
            ),
            models.CheckConstraint(
                condition=Q(desired_retention__gt=0.5, desired_retention__lt=1.0),
                name="course_desired_retention_range",
            ),
            models.CheckConstraint(
                condition=Q(new_item_ratio__gte=0.0, new_item_ratio__lte=1.0)
                & Q(mastery_threshold__gte=0.0, mastery_threshold__lte=1.0)
                & Q(target_p_correct__gt=0.0, target_p_correct__lt=1.0),
                name="course_scheduling_ratios_range",
            ),
            models.CheckConstraint(
                condition=Q(weight_due__gte=0)
                & Q(weight_mastery_gap__gte=0)
                & Q(weight_difficulty_match__gte=0)
                & Q(weight_exploration__gte=0),
                name="course_scheduling_weights_nonnegative",
            ),
            models.CheckConstraint(
                condition=Q(new_per_day__lte=DAILY_LIMIT_MAX)
                & Q(reviews_per_day__lte=DAILY_LIMIT_MAX),
                name="course_daily_limits_range",
            ),
            origin_unique_constraint("course_legacy_key_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class Unit(OriginTracked):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="units")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0, help_text="Order within the course.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course", "position", "title"]
        indexes = [models.Index(fields=["course", "position"])]
        constraints = [origin_unique_constraint("unit_legacy_key_unique")]

    def __str__(self) -> str:
        return f"{self.course}: {self.title}"


class Concept(OriginTracked):
    """A skill or topic learners master; atoms practise it, units group it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="concepts")
    text = models.CharField(max_length=300, help_text="The concept as learners see it.")
    translation = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    difficulty = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    units = models.ManyToManyField(Unit, related_name="concepts", blank=True)
    prerequisites = models.ManyToManyField(
        "self",
        through="ConceptPrerequisite",
        through_fields=("concept", "prerequisite"),
        symmetrical=False,
        related_name="unlocks",
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course", "text"]
        constraints = [
            models.CheckConstraint(
                condition=Q(difficulty__gte=1, difficulty__lte=5), name="concept_difficulty_1_5"
            ),
            models.UniqueConstraint(
                fields=["course", "text"], name="concept_text_unique_in_course"
            ),
            origin_unique_constraint("concept_legacy_key_unique"),
        ]

    def __str__(self) -> str:
        return self.text


class ConceptPrerequisite(models.Model):
    """``prerequisite`` must be learned before ``concept``. The graph is kept acyclic by
    ``apps.curriculum.services.concept_prerequisite_add``."""

    concept = models.ForeignKey(
        Concept, on_delete=models.CASCADE, related_name="prerequisite_links"
    )
    prerequisite = models.ForeignKey(
        Concept, on_delete=models.CASCADE, related_name="dependent_links"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["concept", "prerequisite"]
        constraints = [
            models.UniqueConstraint(fields=["concept", "prerequisite"], name="prerequisite_unique"),
            models.CheckConstraint(
                condition=~Q(concept=models.F("prerequisite")), name="prerequisite_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prerequisite} → {self.concept}"


class Misconception(models.Model):
    """A known wrong belief; wrong answers link to it so learners get targeted remediation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    concept = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="misconceptions")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    remediation = models.TextField(blank=True, help_text="What to tell a learner who holds it.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["concept", "name"]

    def __str__(self) -> str:
        return self.name
