"""The event log in the admin: read-only (append-only; only retention removes events)."""

from django.contrib import admin

from .models import AnalyticsEvent


@admin.register(AnalyticsEvent)
class AnalyticsEventAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "kind", "schema_version", "learner", "course")
    list_filter = ("kind", "schema_version")
    search_fields = ("learner__email",)
    date_hierarchy = "occurred_at"
    list_select_related = ("learner", "course")
    show_full_result_count = False  # a count of a large log is a full scan
    readonly_fields = (
        "id", "kind", "schema_version", "occurred_at", "learner", "course", "payload",
        "created_at",
    )  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
