"""Live sync (phase 2 and 3): flags and their audit, cohorts, the outbox, conflicts and
shadow reads."""

from django.db import models


class ReadSource(models.TextChoices):
    V1 = "v1", "v1 (legacy tables)"
    V2 = "v2", "v2 (new tables)"


class SyncFlags(models.Model):
    """The migration's switches: one row (pk 1), created from the environment's defaults on
    first read (apps/legacy_sync/live/flags.py). Every change is audited in FlagChange."""

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
