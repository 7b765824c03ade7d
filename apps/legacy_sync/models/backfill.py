"""The backfill's bookkeeping: checkpoints, runs, and v1's cached streaks compared with
v2's."""

from django.db import models


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
    json_dir = models.CharField(
        max_length=1024, blank=True,
        help_text="The folder of v1's JSON progress files this run read ('' when it had none); "
        "status figures count the same files.",
    )  # fmt: skip

    class Meta:
        ordering = ["-started_at"]
        permissions = [("start_backfill", "Can start a backfill from the admin")]

    def __str__(self) -> str:
        return f"Backfill {self.pk} ({self.status}) at {self.started_at:%Y-%m-%d %H:%M}"


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
