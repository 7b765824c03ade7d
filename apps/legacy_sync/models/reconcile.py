"""Reconciliation runs and the differences they found."""

from django.db import models


class ReconciliationStatus(models.TextChoices):
    RUNNING = "running", "running"
    CLEAN = "clean", "clean"
    DIFFERENCES = "differences", "unexplained differences"
    FAILED = "failed", "failed"


class ReconciliationRun(models.Model):
    """One ``legacy_reconcile``: per entity, counts and hashes compared over key ranges."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=ReconciliationStatus.choices, default=ReconciliationStatus.RUNNING
    )
    entities = models.JSONField(default=dict, blank=True)
    differences = models.PositiveIntegerField(default=0, help_text="Unexplained differences.")
    explained = models.PositiveIntegerField(default=0)
    repaired = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"reconciliation {self.started_at:%Y-%m-%d %H:%M}: {self.status}"


class DifferenceKind(models.TextChoices):
    MISSING_IN_V2 = "missing_in_v2", "in v1, not in v2"
    MISSING_IN_V1 = "missing_in_v1", "in v2, not in v1"
    MISMATCH = "mismatch", "values differ"


class ReconciliationDifference(models.Model):
    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="diffs")
    entity = models.CharField(max_length=32)
    legacy_key = models.CharField(max_length=96)
    kind = models.CharField(max_length=16, choices=DifferenceKind.choices)
    explained = models.BooleanField(default=False)
    explanation = models.CharField(max_length=200, blank=True)
    v1_values = models.JSONField(null=True, blank=True)
    v2_values = models.JSONField(null=True, blank=True)
    repaired = models.BooleanField(default=False)

    class Meta:
        ordering = ["run", "entity", "legacy_key"]
        indexes = [models.Index(fields=["run", "explained", "entity"])]

    def __str__(self) -> str:
        return f"{self.entity} {self.legacy_key}: {self.kind}"
