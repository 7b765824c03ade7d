"""The backfill's own bookkeeping: checkpoints, runs, quarantine and explained merges.

The legacy v1 tables themselves are declared in legacy_models.py (unmanaged, on the
"legacy" alias).
"""

from django.db import models

from .legacy_models import (  # noqa: F401 - registered with the app
    LegacyAttempt,
    LegacyBit,
    LegacyChapter,
    LegacyFlashcard,
    LegacyMistakeLog,
    LegacyPoint,
    LegacyReviewCard,
    LegacySession,
    LegacyTask,
    LegacyUser,
    LegacyUserProfile,
)


class BackfillCheckpoint(models.Model):
    """How far the backfill of one entity got: the last legacy key whose batch committed.

    Written in the same transaction as the batch it follows, so a killed run resumes exactly
    after the last committed batch. ``range_start`` is "" for a sequential run; an async run
    keeps one checkpoint per key range it split the entity into.
    """

    entity = models.CharField(max_length=32)
    range_start = models.CharField(max_length=96, blank=True, default="")
    last_key = models.CharField(max_length=96, blank=True, default="")
    rows_seen = models.PositiveBigIntegerField(default=0)
    finished = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["entity", "range_start"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "range_start"], name="checkpoint_unique")
        ]

    def __str__(self) -> str:
        return f"{self.entity}@{self.range_start or 'start'}: after {self.last_key or '-'}"


class BackfillStatus(models.TextChoices):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BackfillRun(models.Model):
    """One ``legacy_backfill`` invocation and its per-entity progress, for the status pages.

    ``progress`` maps entity → {"legacy", "processed", "migrated", "quarantined",
    "started_at", "finished_at", "rate"}; it is refreshed after every batch.
    """

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=BackfillStatus.choices, default=BackfillStatus.RUNNING
    )
    entities = models.JSONField(default=list)
    mode = models.CharField(max_length=8, default="sync", help_text="sync or async (Celery)")
    batch_size = models.PositiveIntegerField(default=0)
    progress = models.JSONField(default=dict, blank=True)
    failure = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Backfill {self.pk} ({self.status}) at {self.started_at:%Y-%m-%d %H:%M}"


class QuarantinedRow(models.Model):
    """A legacy row the backfill could not migrate, kept whole with the reason why.

    Staff fix ``raw`` in the admin and retry; a successful retry deletes the row here (the
    migrated row then exists) and releases the rows ``blocked_by`` it. ``blocked_by`` names
    the parent (``users:7``) a dependent row waits for.
    """

    entity = models.CharField(max_length=32)
    legacy_key = models.CharField(max_length=96)
    reason = models.CharField(max_length=48, db_index=True)
    detail = models.TextField(blank=True)
    raw = models.JSONField(help_text="The legacy row; edit it to fix the row, then retry.")
    blocked_by = models.CharField(max_length=96, blank=True, db_index=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    seen_count = models.PositiveIntegerField(default=1)
    retry_count = models.PositiveIntegerField(default=0)
    last_retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["entity", "legacy_key"]
        verbose_name = "quarantined legacy row"
        constraints = [
            models.UniqueConstraint(fields=["entity", "legacy_key"], name="quarantine_unique")
        ]
        indexes = [models.Index(fields=["entity", "reason"])]

    def __str__(self) -> str:
        return f"{self.entity} {self.legacy_key}: {self.reason}"


class MergedLegacyRow(models.Model):
    """A legacy row that is the same fact as a row already migrated, so it was folded into
    that row instead of copied: a JSON attempt v1 also stored in its database (the rule is in
    apps/legacy_sync/backfill/json_files.py)."""

    entity = models.CharField(max_length=32)
    legacy_key = models.CharField(max_length=96)
    merged_into = models.CharField(max_length=96, help_text="The legacy key of the kept row.")
    rule = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entity", "legacy_key"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "legacy_key"], name="merged_row_unique")
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.legacy_key} → {self.merged_into} ({self.rule})"


class StreakComparison(models.Model):
    """v1's cached streak for a learner next to the one recomputed from migrated attempts.

    v2 never copies cached streaks (they are derived from attempts); a disagreement is a
    report for staff, not an error.
    """

    entity = models.CharField(max_length=32, help_text="user_profiles or json_streaks")
    legacy_key = models.CharField(max_length=96)
    learner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    v1_current = models.IntegerField(null=True)
    v1_longest = models.IntegerField(null=True)
    v2_current = models.IntegerField()
    v2_longest = models.IntegerField()
    agrees = models.BooleanField(db_index=True)
    compared_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["entity", "legacy_key"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "legacy_key"], name="streak_check_unique")
        ]

    def __str__(self) -> str:
        verdict = "agrees" if self.agrees else "differs"
        return f"{self.entity} {self.legacy_key}: {verdict}"
