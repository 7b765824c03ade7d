import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from apps.core.models import OriginTracked, origin_unique_constraint


class ProgressSnapshot(models.Model):
    """A learner's progress set aside by a reset: the rows stay, marked ``archived_in``.

    Restoring clears the mark, so nothing is ever destroyed.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="progress_snapshots"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    attempt_count = models.PositiveIntegerField(default=0)
    session_count = models.PositiveIntegerField(default=0)
    xp_total = models.IntegerField(default=0)
    restored_at = models.DateTimeField(null=True, blank=True)
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Reset of {self.learner} at {self.created_at:%Y-%m-%d %H:%M}"


class SessionKind(models.TextChoices):
    PRACTICE = "practice"
    REVIEW = "review"
    MOCK_TEST = "mock_test"
    PLACEMENT = "placement"
    MISTAKES = "mistakes"  # next items draws only the atoms of the learner's open mistakes


class StudySession(OriginTracked):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_sessions"
    )
    course = models.ForeignKey(
        "curriculum.Course", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=SessionKind.choices, default="practice")
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    device = models.CharField(max_length=100, blank=True)
    app_version = models.CharField(max_length=40, blank=True)
    archived_in = models.ForeignKey(
        ProgressSnapshot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["learner", "-started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=SessionKind.values), name="session_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True)
                | Q(completed_at__gte=models.F("started_at")),
                name="session_completed_after_start",
            ),
            origin_unique_constraint("session_legacy_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} session of {self.learner} at {self.started_at:%Y-%m-%d %H:%M}"


class Attempt(OriginTracked):
    """One graded answer: an immutable log row. Graded on the server against ``revision``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No single-column indexes on learner and atom: the (learner, answered_at) and (atom,
    # answered_at) indexes lead with them, and every index costs on the hottest insert path.
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    atom = models.ForeignKey(
        "content.LearningAtom", on_delete=models.PROTECT, related_name="attempts", db_index=False
    )
    revision = models.ForeignKey(
        "content.AtomRevision", on_delete=models.PROTECT, related_name="attempts"
    )
    session = models.ForeignKey(
        StudySession, on_delete=models.SET_NULL, null=True, blank=True, related_name="attempts"
    )
    client_attempt_id = models.UUIDField()
    response = models.JSONField(default=dict)
    correct = models.BooleanField()
    score = models.FloatField(validators=[MinValueValidator(0.0), MaxValueValidator(1.0)])
    quality = models.PositiveSmallIntegerField(validators=[MaxValueValidator(5)])
    confidence = models.FloatField(null=True, blank=True)
    time_taken_ms = models.PositiveIntegerField(default=0)
    hints_used = models.PositiveSmallIntegerField(default=0)
    selected_options = models.JSONField(default=list, blank=True)
    misconception = models.ForeignKey(
        "curriculum.Misconception",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    feedback = models.TextField(blank=True)
    archived_in = models.ForeignKey(
        ProgressSnapshot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    scheduler_state_before = models.JSONField(default=dict, blank=True)
    scheduler_state_after = models.JSONField(default=dict, blank=True)
    answered_at = models.DateTimeField(help_text="When the learner answered (client clock).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-answered_at"]
        indexes = [
            models.Index(fields=["learner", "-answered_at"]),
            models.Index(fields=["atom", "answered_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "client_attempt_id"], name="attempt_client_id_unique_per_learner"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0.0, score__lte=1.0), name="attempt_score_0_1"
            ),
            models.CheckConstraint(condition=Q(quality__lte=5), name="attempt_quality_0_5"),
            origin_unique_constraint("attempt_legacy_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.learner} on {self.atom_id}: {'right' if self.correct else 'wrong'}"


class XPReason(models.TextChoices):
    ATTEMPT = "attempt"
    SESSION_COMPLETE = "session_complete"
    STREAK_BONUS = "streak_bonus"
    MASTERY_BONUS = "mastery_bonus"


class XPEvent(OriginTracked):
    """The XP ledger: totals are sums over it, never a stored counter."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="xp_events"
    )
    amount = models.IntegerField()
    reason = models.CharField(max_length=32, choices=XPReason.choices)
    # No database constraint: on PostgreSQL attempts are partitioned by month and their
    # primary key is (id, answered_at), which a foreign key on id alone cannot reference.
    # Django's collector still cascades deletes.
    attempt = models.ForeignKey(
        Attempt,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="xp_events",
        db_constraint=False,
    )
    session = models.ForeignKey(
        StudySession, on_delete=models.CASCADE, null=True, blank=True, related_name="xp_events"
    )
    occurred_at = models.DateTimeField()
    # What a bonus was paid for ("streak:7", "mastery:<concept id>"): unique per learner, so
    # a replay, a re-sent batch or two racing attempts cannot pay it twice. Kept on archived
    # rows too (a reset does not pay it again; a restore cannot collide). NULL on the rest,
    # and on v1's migrated bonuses, which name no milestone (apps/learning/services/rewards.py).
    bonus_key = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001
    archived_in = models.ForeignKey(
        ProgressSnapshot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["learner", "occurred_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "bonus_key"],
                condition=Q(bonus_key__isnull=False),
                name="xp_bonus_once",
            ),
            models.UniqueConstraint(
                fields=["attempt", "reason"],
                condition=Q(attempt__isnull=False),
                name="xp_once_per_attempt_reason",
            ),
            models.UniqueConstraint(
                fields=["session", "reason"],
                condition=Q(session__isnull=False),
                name="xp_once_per_session_reason",
            ),
            origin_unique_constraint("xp_legacy_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} XP for {self.learner} ({self.reason})"


class Mistake(OriginTracked):
    """A wrong answer worth remediating, linked to the concept it shows a gap in.

    ``subtype`` classifies the error (``gender_agreement``, ``spelling``...); v1's mistake
    logs carry it as a template code. v2 records one per wrong answer
    (apps/learning/services/mistakes.py), with the atom, the attempt and the misconception the
    chosen option names (``subtype`` ``misconception``, else ``wrong_answer``); it is open
    until two later correct answers on the same atom (``correct_since`` counts them) clear it.
    v1's rows name no atom: they are history, never open.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mistakes"
    )
    concept = models.ForeignKey(
        "curriculum.Concept", on_delete=models.CASCADE, related_name="mistakes"
    )
    atom = models.ForeignKey(
        "content.LearningAtom", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    misconception = models.ForeignKey(
        "curriculum.Misconception",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # No database constraint, as XPEvent's: partitioned attempts have a composite primary key.
    attempt = models.ForeignKey(
        Attempt,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,  # the unique constraint below indexes it
    )
    subtype = models.SlugField(max_length=64)
    raw_text = models.TextField(blank=True)
    occurred_at = models.DateTimeField()
    correct_since = models.PositiveSmallIntegerField(
        default=0, help_text="Correct answers on the atom since; two clear the mistake."
    )
    cleared_at = models.DateTimeField(null=True, blank=True)
    archived_in = models.ForeignKey(
        ProgressSnapshot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            models.Index(fields=["learner", "-occurred_at"]),
            # open mistakes by atom: the attempt service's check and clearing, the list
            models.Index(
                fields=["learner", "atom"],
                condition=Q(cleared_at__isnull=True, atom__isnull=False),
                name="mistake_open_learner_atom",
            ),
        ]
        constraints = [
            origin_unique_constraint("mistake_legacy_key_unique"),
            models.UniqueConstraint(
                fields=["attempt"],
                condition=Q(attempt__isnull=False),
                name="mistake_once_per_attempt",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subtype} by {self.learner} on {self.concept_id}"


class StudyTask(OriginTracked):
    """A learner's study-planner task ("revise chapter 3 by Friday")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_tasks"
    )
    title = models.CharField(max_length=255)
    course = models.CharField(max_length=255, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    priority = models.SmallIntegerField(default=0)
    status = models.CharField(max_length=32, default="open")
    signals = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "title"]
        indexes = [models.Index(fields=["learner", "due_at"])]
        constraints = [origin_unique_constraint("study_task_legacy_key_unique")]

    def __str__(self) -> str:
        return self.title


class LearnerDayRollup(models.Model):
    """A learner's live attempts summed per local day (in ``timezone``, the learner's zone when
    the row was written): statistics and progress read these instead of the attempt log.

    Derived data, kept by ``apps/learning/services/rollups.py`` in the attempt's transaction
    and rebuilt by ``learning_rollups_rebuild``. A row whose ``timezone`` is not the learner's
    (``""`` when two zones were mixed) makes readers fall back to the attempt log.
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    timezone = models.CharField(max_length=64)
    attempts = models.PositiveIntegerField(default=0)
    correct = models.PositiveIntegerField(default=0)
    time_spent_ms = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["learner", "day"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "day"], name="rollup_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.learner_id} on {self.day}: {self.correct}/{self.attempts}"


class LearnerAtomRollup(models.Model):
    """A learner's live attempts summed per atom, for the breakdowns by atom type and concept
    (joined to the atom's current type and concepts when read). Kept like LearnerDayRollup."""

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    atom = models.ForeignKey("content.LearningAtom", on_delete=models.CASCADE, related_name="+")
    attempts = models.PositiveIntegerField(default=0)
    correct = models.PositiveIntegerField(default=0)
    time_spent_ms = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["learner", "atom"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "atom"], name="rollup_atom_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.learner_id} on {self.atom_id}: {self.correct}/{self.attempts}"
