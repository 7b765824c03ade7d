from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per Celery worker, touched by the ``core.record_worker_heartbeat`` task.

    Beat runs that task every minute, so staff (and ``/readyz``) can see when a worker last
    executed work against this database.
    """

    worker = models.CharField(max_length=255, unique=True)
    last_seen_at = models.DateTimeField()
    last_token = models.CharField(
        max_length=64, blank=True, help_text="Echo of the caller's token, for round-trip checks."
    )
    beats = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.worker} @ {self.last_seen_at:%Y-%m-%d %H:%M:%S}"


class AuditSource(models.TextChoices):
    ADMIN = "admin"
    API = "api"
    IMPORT = "import"
    SYNC = "sync"
    SCHEDULE = "schedule"
    SYSTEM = "system"
    LEGACY_IMPORT = "legacy_import"


class AuditEvent(models.Model):
    """Who did what to which object, when, and through which door. Append-only."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=16, choices=AuditSource.choices)
    action = models.CharField(max_length=48)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=255, blank=True)
    from_state = models.CharField(max_length=32, blank=True)
    to_state = models.CharField(max_length=32, blank=True)
    message = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.target_repr} by {self.actor or 'system'} via {self.source}"


class Origin(models.TextChoices):
    """Which system a row was first written in: v2 itself, or v1 (migrated or pulled)."""

    V2 = "v2"
    LEGACY = "legacy"


class OriginTracked(models.Model):
    """Every row the legacy sync writes says where it came from and which v1 row it is.

    ``legacy_key`` is the v1 primary key as text (a split session adds ``@chapter``; a JSON
    attempt is ``json:user:index``). Models add a unique constraint on it with
    ``origin_unique_constraint`` so a migrated row can never exist twice.
    """

    origin = models.CharField(
        max_length=8, choices=Origin.choices, default=Origin.V2, editable=False
    )
    legacy_key = models.CharField(max_length=96, null=True, blank=True, editable=False)  # noqa: DJ001 - NULL on v2 rows

    class Meta:
        abstract = True


def origin_unique_constraint(name: str) -> models.UniqueConstraint:
    return models.UniqueConstraint(
        fields=["origin", "legacy_key"],
        condition=models.Q(legacy_key__isnull=False),
        name=name,
    )
