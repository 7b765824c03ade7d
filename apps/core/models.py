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
