"""Migration staff's pages: the quarantine (browse by reason, fix a row, retry it), backfill
runs with their per-entity progress, checkpoints, merged rows and streak comparisons; for the
live sync, the flags (audited), the outbox (retry dead entries), conflicts to review,
reconciliation runs with their differences, cohorts and shadow reads."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.core.admin import ReadOnlyAdmin

from .backfill.quarantine import quarantine_retry
from .backfill.runner import backfill_start
from .live.flags import sync_flags, sync_flags_update
from .live.outbox.retry import outbox_entries_retry
from .models import (
    BackfillCheckpoint,
    BackfillRun,
    CohortAssignment,
    FlagChange,
    MergedLegacyRow,
    OutboxEntry,
    QuarantinedRow,
    ReconciliationDifference,
    ReconciliationRun,
    ShadowRead,
    StreakComparison,
    SyncConflict,
    SyncFlags,
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
    """Also where Migration staff start a backfill: it runs in a worker (the same as
    ``legacy_backfill``), and the status pages show it live."""

    list_display = ("pk", "started_at", "finished_at", "status", "mode", "batch_size")
    list_filter = ("status", "mode")
    change_list_template = "admin/legacy_sync/backfillrun/change_list.html"

    def get_urls(self):
        start = path("start/", self.admin_site.admin_view(self.start_view),
                     name="legacy_sync_backfillrun_start")  # fmt: skip
        return [start, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        may_start = request.user.has_perm("legacy_sync.start_backfill")
        return super().changelist_view(request, {**(extra_context or {}), "may_start": may_start})

    def start_view(self, request):
        if request.method != "POST":
            return redirect("admin:legacy_sync_backfillrun_changelist")
        if not request.user.has_perm("legacy_sync.start_backfill"):
            raise PermissionDenied
        if not backfill_start():
            self.message_user(request, "A backfill is already running.", messages.WARNING)
        else:
            self.message_user(
                request, "Backfill started; follow it on the migration status page.",
                messages.SUCCESS,
            )  # fmt: skip
        return redirect("admin:legacy_sync_backfillrun_changelist")

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


# --- Live sync ---------------------------------------------------------------------------


@admin.register(SyncFlags)
class SyncFlagsAdmin(admin.ModelAdmin):
    """One row of flags. Saving goes through sync_flags_update, which audits every change."""

    fields = ("dual_write", "read_source", "adaptive_rollout_percent", "shadow_read_percent",
              "kill_switch", "updated_by", "updated_at")  # fmt: skip
    readonly_fields = ("updated_by", "updated_at")
    list_display = ("__str__", "updated_by", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied  # before sync_flags() creates the row
        flags = sync_flags()  # created from the environment's defaults on first visit
        return redirect("admin:legacy_sync_syncflags_change", flags.pk)

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        sync_flags_update(by=request.user, note="admin", **changes)


@admin.register(FlagChange)
class FlagChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "flag", "old_value", "new_value", "changed_by", "note")
    list_filter = ("flag",)


@admin.register(CohortAssignment)
class CohortAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("learner", "cohort", "bucket", "assigned_at", "updated_at")
    list_filter = ("cohort",)
    search_fields = ("learner__email",)


@admin.register(OutboxEntry)
class OutboxEntryAdmin(admin.ModelAdmin):
    list_display = ("pk", "entity", "v2_id", "status", "tries", "legacy_key", "created_at",
                    "sent_at", "short_error")  # fmt: skip
    list_filter = ("status", "entity")
    search_fields = ("v2_id", "legacy_key", "last_error")
    actions = ["retry_selected"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in OutboxEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # an entry is the record of a write: it is retried, never dropped

    @admin.display(description="last error")
    def short_error(self, entry):
        return entry.last_error[:80]

    @admin.action(description="Retry the selected dead or failing entries")
    def retry_selected(self, request, queryset):
        count = outbox_entries_retry(entry_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} entr{'y' if count == 1 else 'ies'} queued again.")


@admin.register(SyncConflict)
class SyncConflictAdmin(admin.ModelAdmin):
    list_display = ("detected_at", "entity", "legacy_key", "winner", "reviewed_at", "reviewed_by")
    list_filter = ("entity", "winner", ("reviewed_at", admin.EmptyFieldListFilter))
    actions = ["mark_reviewed"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in SyncConflict._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Mark the selected conflicts reviewed")
    def mark_reviewed(self, request, queryset):
        count = queryset.filter(reviewed_at=None).update(
            reviewed_at=timezone.now(), reviewed_by=request.user
        )
        self.message_user(request, f"{count} conflict(s) marked reviewed.")


class DifferenceInline(admin.TabularInline):
    model = ReconciliationDifference
    fields = ("entity", "legacy_key", "kind", "explained", "explanation", "repaired")
    readonly_fields = fields
    extra = 0
    max_num = 0
    show_change_link = True
    can_delete = False


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "finished_at", "status", "differences", "explained", "repaired")
    list_filter = ("status",)
    inlines = [DifferenceInline]


@admin.register(ReconciliationDifference)
class ReconciliationDifferenceAdmin(ReadOnlyAdmin):
    list_display = ("run", "entity", "legacy_key", "kind", "explained", "explanation", "repaired")
    list_filter = ("explained", "entity", "kind")
    search_fields = ("legacy_key",)


@admin.register(ShadowRead)
class ShadowReadAdmin(ReadOnlyAdmin):
    list_display = ("compared_at", "learner", "read", "matched", "differing_fields")
    list_filter = ("matched", "read")
