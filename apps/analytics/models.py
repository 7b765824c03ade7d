"""The analytics event log: append-only, one row per action (apps/analytics/schema.py).

Rows are inserted by ``services.events_record`` after the commit of the action they describe,
and leave only through the retention purge (``retention.py``). On PostgreSQL the table is
range-partitioned by month on ``occurred_at`` (migration 0002); its key there is
``(id, occurred_at)``, so nothing references it by foreign key.
"""

from django.conf import settings
from django.db import models

from .schema import EventKind


class AnalyticsEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    schema_version = models.PositiveSmallIntegerField()
    # When the event was recorded: the commit of its action (the payload carries the domain's
    # own times, such as an offline attempt's answered_at). The export's keyset runs on it.
    occurred_at = models.DateTimeField()
    # No database constraints: the log outlives what it names, and a partitioned table's rows
    # should not be checked against (or cascade from) a learner's or a course's deletion.
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    course = models.ForeignKey(
        "curriculum.Course",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["occurred_at", "id"], name="analytics_event_keyset"),
            models.Index(fields=["kind", "occurred_at", "id"], name="analytics_event_kind"),
            models.Index(fields=["learner", "occurred_at"], name="analytics_event_learner"),
        ]
        permissions = [("export_events", "Can export analytics events")]

    def __str__(self) -> str:
        return f"{self.kind} v{self.schema_version} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"
