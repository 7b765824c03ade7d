from django.conf import settings
from django.db import models

from apps.core.models import OriginTracked, origin_unique_constraint


class LearnerAtomState(OriginTracked):
    """A learner's memory state for one atom, as the scheduler last left it.

    Derived from the attempt log: it can always be rebuilt by replaying the learner's attempts
    on the atom in time order (apps.scheduler.services.atom_state_rebuild).
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="atom_states"
    )
    atom = models.ForeignKey(
        "content.LearningAtom", on_delete=models.CASCADE, related_name="learner_states"
    )
    state = models.JSONField(default=dict)
    due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    reviews = models.PositiveIntegerField(default=0)
    lapses = models.PositiveIntegerField(default=0)
    archived_in = models.ForeignKey(
        "learning.ProgressSnapshot",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["learner", "due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "atom"],
                condition=models.Q(archived_in__isnull=True),
                name="one_live_state_per_learner_atom",
            ),
            origin_unique_constraint("atom_state_legacy_key_unique"),
        ]
        indexes = [models.Index(fields=["learner", "due_at"])]

    def __str__(self) -> str:
        return f"{self.learner} / {self.atom_id}: due {self.due_at}"


class LearnerConceptState(models.Model):
    """A learner's knowledge of one concept: BKT's P(known) and an IRT ability estimate.

    Updated with every attempt, in the attempt's transaction. ``version`` counts updates.
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="concept_states"
    )
    concept = models.ForeignKey("curriculum.Concept", on_delete=models.CASCADE, related_name="+")
    p_known = models.FloatField(default=0.2)
    theta = models.FloatField(default=0.0)
    theta_se = models.FloatField(default=1.0)
    attempts = models.PositiveIntegerField(default=0)
    correct_attempts = models.PositiveIntegerField(default=0)
    # Half-life regression's estimate of how long the concept stays remembered, and when it
    # was last practised (set from history by the legacy backfill, and by hlr courses).
    half_life_days = models.FloatField(null=True, blank=True)
    last_practised_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    archived_in = models.ForeignKey(
        "learning.ProgressSnapshot",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["learner", "concept"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "concept"],
                condition=models.Q(archived_in__isnull=True),
                name="one_live_concept_state",
            ),
            models.CheckConstraint(
                condition=models.Q(p_known__gte=0.0, p_known__lte=1.0),
                name="concept_state_p_known_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} / {self.concept_id}: P(known)={self.p_known:.2f}"


class HalfLifeModel(models.Model):
    """A trained half-life regression (weights θ over √(1+correct), √(1+wrong), bias).

    ``hlr_train`` adds a new version; the newest one schedules ``hlr`` courses. Until one
    exists, the seed's cold-start rule does.
    """

    version = models.PositiveIntegerField(unique=True)
    weights = models.JSONField()
    feature_names = models.JSONField()
    samples = models.PositiveIntegerField()
    final_loss = models.FloatField()
    alpha = models.FloatField()
    l2 = models.FloatField()
    trained_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"HLR v{self.version} ({self.samples} samples)"


class FittedKind(models.TextChoices):
    FSRS = "fsrs", "FSRS parameters (per course)"
    BKT = "bkt", "BKT parameters (per concept; the course-wide row is the pooled prior)"
    IRT = "irt", "IRT calibration (per course)"
    EVALUATION = "eval", "Evaluation of the scheduling models on the course's own attempts"


class FittedModel(models.Model):
    """One fitted version of a course's (or one concept's) model parameters, learnt from the
    platform's own attempts by a command or a nightly task.

    Versions count up per (kind, course, concept) and are never changed; the newest version
    that is ``in_use`` (it had enough data to replace the defaults) is the one the scheduler
    reads. ``parameters`` holds what the model needs at runtime (FSRS's weights, BKT's four
    probabilities, IRT's linking constants); ``metrics`` how well it fitted.
    """

    kind = models.CharField(max_length=8, choices=FittedKind.choices)
    course = models.ForeignKey("curriculum.Course", on_delete=models.CASCADE, related_name="+")
    concept = models.ForeignKey(
        "curriculum.Concept", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField()
    parameters = models.JSONField()
    samples = models.PositiveIntegerField(help_text="Reviews, attempts or responses fitted on.")
    metrics = models.JSONField(default=dict, blank=True)
    in_use = models.BooleanField(
        default=False, help_text="Enough data to replace the defaults (else history only)."
    )
    fitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "course", "concept", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "course", "concept", "version"],
                condition=models.Q(concept__isnull=False),
                name="fitted_model_concept_version_unique",
            ),
            models.UniqueConstraint(
                fields=["kind", "course", "version"],
                condition=models.Q(concept__isnull=True),
                name="fitted_model_course_version_unique",
            ),
        ]
        indexes = [models.Index(fields=["kind", "course", "concept", "-version"])]

    def __str__(self) -> str:
        scope = f"concept {self.concept_id}" if self.concept_id else f"course {self.course_id}"
        return f"{self.kind} v{self.version} for {scope}"
