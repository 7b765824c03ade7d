"""Migration staff's pages: the quarantine (browse by reason, fix a row, retry it), backfill
runs with their per-entity progress, checkpoints, merged rows and streak comparisons."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from apps.core.admin import ReadOnlyAdmin

from .backfill.quarantine import quarantine_retry
from .models import (
    BackfillCheckpoint,
    BackfillRun,
    MergedLegacyRow,
    QuarantinedRow,
    StreakComparison,
)


@admin.register(QuarantinedRow)
class QuarantinedRowAdmin(admin.ModelAdmin):
    list_display = ("entity", "legacy_key", "reason", "blocked_by", "seen_count", "retry_count",
                    "last_seen_at")  # fmt: skip
    list_filter = ("reason", "entity")
    search_fields = ("legacy_key", "detail", "blocked_by")
    readonly_fields = ("entity", "legacy_key", "reason", "detail", "blocked_by", "first_seen_at",
                       "last_seen_at", "seen_count", "retry_count", "last_retry_at")  # fmt: skip
    fields = ("entity", "legacy_key", "reason", "detail", "blocked_by", "raw", "first_seen_at",
              "last_seen_at", "seen_count", "retry_count", "last_retry_at")  # fmt: skip
    actions = ["retry_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a quarantined row leaves only by migrating: conservation

    def response_change(self, request, obj):
        if "_retry" in request.POST:
            self._retry(request, [obj])
        return super().response_change(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "show_retry": True}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Retry the selected rows (and the rows waiting on them)")
    def retry_selected(self, request, queryset):
        self._retry(request, list(queryset))

    def _retry(self, request, rows) -> None:
        totals = quarantine_retry(rows)
        level = messages.SUCCESS if not totals["still_quarantined"] else messages.WARNING
        self.message_user(
            request,
            f"{totals['migrated']} row(s) migrated, {totals['still_quarantined']} still "
            "quarantined (their reason is updated).",
            level,
        )


@admin.register(BackfillRun)
class BackfillRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "started_at", "finished_at", "status", "mode", "batch_size")
    list_filter = ("status", "mode")
    fields = ("started_at", "finished_at", "status", "mode", "batch_size", "failure",
              "progress_table")  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    @admin.display(description="Progress per entity")
    def progress_table(self, run):
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (name, p.get("legacy"), p.get("seen"), p.get("migrated", "…"),
                 p.get("quarantined", "…"), p.get("rate"))
                for name, p in run.progress.items()
            ),
        )  # fmt: skip
        return format_html(
            "<table><tr><th>entity</th><th>legacy</th><th>seen</th><th>migrated</th>"
            "<th>quarantined</th><th>rows/s</th></tr>{}</table>",
            rows,
        )


@admin.register(BackfillCheckpoint)
class BackfillCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("entity", "range_start", "last_key", "rows_seen", "finished", "updated_at")
    list_filter = ("entity", "finished")


@admin.register(MergedLegacyRow)
class MergedLegacyRowAdmin(ReadOnlyAdmin):
    list_display = ("entity", "legacy_key", "merged_into", "rule", "created_at")
    list_filter = ("entity", "rule")
    search_fields = ("legacy_key", "merged_into")


@admin.register(StreakComparison)
class StreakComparisonAdmin(ReadOnlyAdmin):
    list_display = ("entity", "legacy_key", "learner", "v1_current", "v2_current", "v1_longest",
                    "v2_longest", "agrees")  # fmt: skip
    list_filter = ("entity", "agrees")
    search_fields = ("legacy_key", "learner__email")
