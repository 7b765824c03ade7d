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


# --- Live sync (phase 2 and 3): flags, outbox, conflicts, reconciliation, shadow reads ---


class ReadSource(models.TextChoices):
    V1 = "v1", "v1 (legacy tables)"
    V2 = "v2", "v2 (new tables)"


class SyncFlags(models.Model):
    """The migration's switches: one row (pk 1), created from the environment's defaults on
    first read (apps/legacy_sync/flags.py). Every change is audited in FlagChange."""

    dual_write = models.BooleanField(
        default=False, help_text="Write v2's new rows to v1 too (through the outbox)."
    )
    read_source = models.CharField(
        max_length=2, choices=ReadSource.choices, default=ReadSource.V2,
        help_text="Where learners' progress reads come from. While v1, a sample is shadow-read "
        "from v2 and compared.",
    )  # fmt: skip
    adaptive_rollout_percent = models.PositiveSmallIntegerField(
        default=0, help_text="Share of learners (0–100) in the adaptive cohort."
    )
    shadow_read_percent = models.PositiveSmallIntegerField(
        default=10, help_text="Share of v1 progress reads that also compute the v2 answer."
    )
    kill_switch = models.BooleanField(
        default=False,
        help_text="Pause all syncing (pulls and pushes) at once. Learners are not affected, "
        "and with dual write on, v2 writes still queue in the outbox and go out on release.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = verbose_name_plural = "sync flags"
        permissions = [("view_migration_status", "Can view the migration status pages")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(adaptive_rollout_percent__lte=100)
                & models.Q(shadow_read_percent__lte=100),
                name="sync_flag_percents_0_100",
            )
        ]

    def __str__(self) -> str:
        return (
            f"dual_write={'on' if self.dual_write else 'off'}, read_source={self.read_source}, "
            f"rollout={self.adaptive_rollout_percent}%"
            + (", KILL SWITCH ON" if self.kill_switch else "")
        )


class FlagChange(models.Model):
    """The audit trail of SyncFlags: who changed which flag from what to what."""

    flag = models.CharField(max_length=40)
    old_value = models.CharField(max_length=40)
    new_value = models.CharField(max_length=40)
    changed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.flag}: {self.old_value} → {self.new_value}"


class Cohort(models.TextChoices):
    V1 = "v1", "v1 (static curriculum)"
    ADAPTIVE = "adaptive", "adaptive"


class CohortAssignment(models.Model):
    """A learner's A/B assignment for the adaptive rollout. The bucket (0–99) is a hash of the
    learner id, so it never changes; raising the rollout percent moves learners from v1 to
    adaptive only, and lowering it moves them back."""

    learner = models.OneToOneField(
        "accounts.User", on_delete=models.CASCADE, related_name="cohort_assignment"
    )
    bucket = models.PositiveSmallIntegerField()
    cohort = models.CharField(max_length=8, choices=Cohort.choices, db_index=True)
    assigned_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["learner_id"]

    def __str__(self) -> str:
        return f"{self.learner_id}: {self.cohort} (bucket {self.bucket})"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "pending"
    SENT = "sent", "sent"
    DEAD = "dead", "dead (retries exhausted)"
    V2_ONLY = "v2_only", "v2-only (v1 cannot represent it)"


class OutboxEntry(models.Model):
    """A v2 write to apply to v1, stored in the write's own transaction so that it cannot be
    lost: a Celery task applies it (apps/legacy_sync/outbox/), and the sweeper re-sends any
    left pending. The entry names the v2 row; its v1 form is built when it is sent, so a
    resend always carries the row's latest state."""

    entity = models.CharField(max_length=32)
    v2_id = models.CharField(
        max_length=40, help_text="The v2 row's primary key (a UUID or, for XP events, a number)."
    )
    status = models.CharField(
        max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    tries = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    legacy_key = models.CharField(
        max_length=96, blank=True, help_text="The v1 id reserved for the row before writing it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "outbox entries"
        indexes = [
            models.Index(
                fields=["status", "id"],
                name="outbox_pending",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["entity", "v2_id"]),
            # the status pages' dead count and recent lag, polled every 2 s
            models.Index(fields=["id"], name="outbox_dead", condition=models.Q(status="dead")),
            models.Index(fields=["sent_at"], name="outbox_sent", condition=models.Q(status="sent")),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.v2_id}: {self.status}"


class SyncConflict(models.Model):
    """The same row changed on both sides since it was last synced. The rule: the side that
    owns the row (its origin) wins, the other side is overwritten, and the conflict is kept
    here for staff to review."""

    entity = models.CharField(max_length=32)
    legacy_key = models.CharField(max_length=96)
    winner = models.CharField(max_length=2, choices=ReadSource.choices)
    v1_values = models.JSONField(default=dict)
    v2_values = models.JSONField(default=dict)
    detected_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-detected_at", "-id"]

    def __str__(self) -> str:
        return f"{self.entity} {self.legacy_key}: {self.winner} won"


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


class ShadowRead(models.Model):
    """A progress read answered from v1 and, on the side, from v2 (GitHub Scientist's
    method). The share that match is the cutover criterion."""

    learner = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    read = models.CharField(max_length=32, default="progress")
    matched = models.BooleanField(db_index=True)
    v1_answer = models.JSONField(null=True, blank=True)
    v2_answer = models.JSONField(null=True, blank=True)
    differing_fields = models.JSONField(default=list, blank=True)
    compared_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-compared_at", "-id"]

    def __str__(self) -> str:
        return f"{self.read} for {self.learner_id}: {'match' if self.matched else 'mismatch'}"
