import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from apps.core.models import AuditSource, OriginTracked, origin_unique_constraint

from .atom_types.base import ENGAGEMENT_MODES, KNOWLEDGE_DIMENSIONS


class EngagementMode(models.TextChoices):
    """ICAP (Chi & Wylie, 2014): passive < active < constructive < interactive."""

    PASSIVE = "passive"
    ACTIVE = "active"
    CONSTRUCTIVE = "constructive"
    INTERACTIVE = "interactive"


class KnowledgeDimension(models.TextChoices):
    """Krathwohl's revision of Bloom (2002)."""

    FACTUAL = "factual"
    CONCEPTUAL = "conceptual"
    PROCEDURAL = "procedural"
    METACOGNITIVE = "metacognitive"


class AtomStatus(models.TextChoices):
    DRAFT = "draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved"
    PUBLISHED = "published"
    ARCHIVED = "archived"


assert tuple(EngagementMode.values) == ENGAGEMENT_MODES
assert tuple(KnowledgeDimension.values) == KNOWLEDGE_DIMENSIONS


class Tag(models.Model):
    name = models.SlugField(max_length=64, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LearningAtom(OriginTracked):
    """One typed piece of practice. ``content`` and ``grading_logic`` are validated by the
    atom type's pydantic models (apps/content/atom_types) in every write path; write through
    apps.content.services, never directly."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    external_id = models.CharField(
        max_length=100,
        unique=True,
        null=True,
        blank=True,
        help_text="Stable id from an import; re-importing the same id updates this atom.",
    )
    title = models.CharField(max_length=200, help_text="Editor-facing name.")
    atom_type = models.CharField(max_length=32, db_index=True)
    content = models.JSONField(default=dict, blank=True)
    grading_logic = models.JSONField(default=dict, blank=True)
    schema_version = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(
        max_length=16, choices=AtomStatus.choices, default=AtomStatus.DRAFT, db_index=True
    )
    engagement_mode = models.CharField(
        max_length=16, choices=EngagementMode.choices, default=EngagementMode.ACTIVE
    )
    element_interactivity = models.FloatField(
        default=0.3,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Cognitive load from interacting elements, 0 (none) to 1 (very high).",
    )
    knowledge_dimension = models.CharField(
        max_length=16, choices=KnowledgeDimension.choices, default=KnowledgeDimension.FACTUAL
    )
    difficulty = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="Author's estimate, 1 (easy) to 5 (hard).",
    )
    irt_a = models.FloatField(
        "IRT discrimination (a)", default=1.0, validators=[MinValueValidator(0.01)]
    )
    irt_b = models.FloatField(
        "IRT difficulty (b)",
        default=0.0,
        validators=[MinValueValidator(-6.0), MaxValueValidator(6.0)],
    )
    irt_c = models.FloatField(
        "IRT guessing (c)",
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(0.5)],
    )
    estimated_time_s = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(1)], help_text="Expected seconds to answer."
    )
    tags = models.ManyToManyField(Tag, related_name="atoms", blank=True)
    concepts = models.ManyToManyField(
        "curriculum.Concept", through="AtomConceptWeight", related_name="atoms", blank=True
    )
    # Denormalised plain text of the content and options, kept by the services for search.
    search_text = models.TextField(blank=True, editable=False)
    # What learners see: the revision pinned at publication. Editing the working copy (the
    # fields above) never changes it; publishing again moves it.
    published_revision = models.ForeignKey(
        "AtomRevision", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    # The concepts of the published revision, so learner queries filter by what is live even
    # while the working copy is relinked.
    live_concepts = models.ManyToManyField(
        "curriculum.Concept", related_name="live_atoms", blank=True, editable=False
    )
    publish_at = models.DateTimeField(
        null=True, blank=True, help_text="Publish automatically at this time (once approved)."
    )
    expire_at = models.DateTimeField(
        null=True, blank=True, help_text="Archive automatically at this time."
    )
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Item statistics (apps.content.services.statistics), refreshed by a Celery task.
    stat_responses = models.PositiveIntegerField(default=0, editable=False)
    stat_facility = models.FloatField(null=True, blank=True, editable=False)
    stat_discrimination = models.FloatField(null=True, blank=True, editable=False)
    stat_computed_at = models.DateTimeField(null=True, blank=True, editable=False)
    review_flag = models.TextField(
        blank=True, editable=False, help_text="Why the statistics say this atom needs re-review."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="authored_atoms",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["status", "atom_type"])]
        permissions = [
            ("submit_atom", "Can submit atoms for review"),
            ("review_atom", "Can approve atoms or request changes"),
            ("publish_atom", "Can publish, schedule, archive and restore atoms"),
            ("import_atoms", "Can import atoms in bulk"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(engagement_mode__in=EngagementMode.values),
                name="atom_engagement_mode_valid",
            ),
            models.CheckConstraint(
                condition=Q(knowledge_dimension__in=KnowledgeDimension.values),
                name="atom_knowledge_dimension_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=AtomStatus.values), name="atom_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(element_interactivity__gte=0.0, element_interactivity__lte=1.0),
                name="atom_element_interactivity_0_1",
            ),
            models.CheckConstraint(
                condition=Q(difficulty__gte=1, difficulty__lte=5), name="atom_difficulty_1_5"
            ),
            models.CheckConstraint(condition=Q(irt_a__gt=0), name="atom_irt_a_positive"),
            models.CheckConstraint(
                condition=Q(irt_b__gte=-6.0, irt_b__lte=6.0), name="atom_irt_b_range"
            ),
            models.CheckConstraint(
                condition=Q(irt_c__gte=0.0, irt_c__lte=0.5), name="atom_irt_c_range"
            ),
            models.CheckConstraint(
                condition=Q(estimated_time_s__gte=1), name="atom_estimated_time_positive"
            ),
            origin_unique_constraint("atom_legacy_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.atom_type})"


class AtomConceptWeight(models.Model):
    """How much an atom exercises a concept (0 < weight ≤ 1); mastery updates use it."""

    atom = models.ForeignKey(LearningAtom, on_delete=models.CASCADE, related_name="concept_weights")
    concept = models.ForeignKey(
        "curriculum.Concept", on_delete=models.CASCADE, related_name="atom_weights"
    )
    weight = models.FloatField(
        default=1.0, validators=[MinValueValidator(0.01), MaxValueValidator(1.0)]
    )

    class Meta:
        ordering = ["atom", "-weight"]
        constraints = [
            models.UniqueConstraint(fields=["atom", "concept"], name="atom_concept_unique"),
            models.CheckConstraint(
                condition=Q(weight__gt=0.0, weight__lte=1.0), name="atom_concept_weight_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.concept} (weight {self.weight:g})"


class AtomResponseOption(models.Model):
    """An answer choice of an mcq or multi_select atom. A wrong option should link the
    misconception it reveals; the admin flags wrong options that do not."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    atom = models.ForeignKey(LearningAtom, on_delete=models.CASCADE, related_name="options")
    option_index = models.PositiveSmallIntegerField()
    text = models.TextField()
    is_correct = models.BooleanField(default=False)
    feedback = models.TextField(blank=True, help_text="Shown to a learner who picks it.")
    misconception = models.ForeignKey(
        "curriculum.Misconception",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="options",
    )
    selection_count = models.PositiveIntegerField(default=0, editable=False)
    selection_rate = models.FloatField(null=True, blank=True, editable=False)
    discrimination_index = models.FloatField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["atom", "option_index"]
        constraints = [
            models.UniqueConstraint(fields=["atom", "option_index"], name="option_index_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.option_index}: {self.text[:60]}"


class MediaKind(models.TextChoices):
    IMAGE = "image"
    AUDIO = "audio"


def atom_media_path(instance: "AtomMedia", filename: str) -> str:
    return f"atoms/{instance.atom_id}/{uuid.uuid4().hex}-{filename}"


class AtomMedia(models.Model):
    """An image or audio file shown with an atom; stored through django-storages."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    atom = models.ForeignKey(LearningAtom, on_delete=models.CASCADE, related_name="media")
    kind = models.CharField(max_length=8, choices=MediaKind.choices, editable=False)
    file = models.FileField(upload_to=atom_media_path, max_length=255)
    content_type = models.CharField(max_length=64, editable=False)
    size_bytes = models.PositiveIntegerField(editable=False)
    alt_text = models.CharField(
        max_length=300, blank=True, help_text="Describes the image, or transcribes the audio."
    )
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["atom", "position", "created_at"]
        verbose_name_plural = "atom media"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=MediaKind.values), name="atom_media_kind_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.file.name}"


# A revision's source is the door it came through, the same set as an audit event's.
RevisionSource = AuditSource


class AtomRevision(models.Model):
    """An immutable snapshot of an atom: content, grading logic, options, concept links, tags
    and metadata. Every save makes one; publishing pins one; attempts record one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    atom = models.ForeignKey(LearningAtom, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    source = models.CharField(max_length=16, choices=RevisionSource.choices)
    message = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["atom", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["atom", "number"], name="revision_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.atom.title} r{self.number}"


class AtomEditLock(models.Model):
    """An editor's claim on an atom; others cannot save it until it is released or expires."""

    atom = models.OneToOneField(LearningAtom, on_delete=models.CASCADE, related_name="edit_lock")
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-acquired_at"]

    def __str__(self) -> str:
        return f"{self.atom} locked by {self.held_by} until {self.expires_at:%H:%M}"


class ReviewComment(models.Model):
    """Reviewer feedback on a whole atom or one named field; replies thread under a parent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    atom = models.ForeignKey(LearningAtom, on_delete=models.CASCADE, related_name="review_comments")
    revision = models.ForeignKey(
        AtomRevision, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    field_path = models.CharField(
        max_length=120, blank=True, help_text="Empty for the whole atom, e.g. content.prompt."
    )
    body = models.TextField()
    is_change_request = models.BooleanField(default=False, editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["atom", "created_at"]

    def __str__(self) -> str:
        where = self.field_path or "atom"
        return f"{self.author} on {where}: {self.body[:50]}"


class ImportFormat(models.TextChoices):
    JSON = "json", "JSON"
    CSV = "csv", "CSV"
    GIFT = "gift", "Moodle GIFT"


class ImportStatus(models.TextChoices):
    PREVIEWING = "previewing"
    PREVIEWED = "previewed"
    IMPORTING = "importing"
    DONE = "done"
    FAILED = "failed"


class ImportJob(models.Model):
    """One uploaded file: dry-run preview first, then (on confirmation) the import itself."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    format = models.CharField(max_length=8, choices=ImportFormat.choices)
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default="previewing")
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # The dry-run plan: one entry per row {line, external_id, title, action, errors, changes}.
    plan = models.JSONField(default=list, blank=True)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def progress_percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class ItemAnalysisSettings(models.Model):
    """Editor-set thresholds beyond which an atom is flagged for re-review (one row)."""

    min_responses = models.PositiveIntegerField(default=30)
    min_facility = models.FloatField(default=0.2)
    max_facility = models.FloatField(default=0.95)
    min_discrimination = models.FloatField(default=0.15)
    max_distractor_discrimination = models.FloatField(
        default=0.0, help_text="A distractor above this attracts stronger learners: flag it."
    )
    min_distractor_selection = models.FloatField(
        default=0.02, help_text="A distractor chosen less often than this is not working."
    )

    class Meta:
        verbose_name = verbose_name_plural = "item analysis settings"

    def __str__(self) -> str:
        return "Item analysis thresholds"
