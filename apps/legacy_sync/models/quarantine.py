"""v1 rows the backfill did not copy as they are: quarantined (bad) or merged (the same fact as
a migrated row)."""

from django.db import models


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
