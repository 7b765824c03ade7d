from django.contrib import admin

from .models import AuditEvent, WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("worker", "last_seen_at", "beats")
    readonly_fields = ("worker", "last_seen_at", "last_token", "beats")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """For logs and snapshots: visible to staff with view permission, never edited here."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "action",
        "target_repr",
        "actor",
        "source",
        "from_state",
        "to_state",
    )
    list_filter = ("source", "action", "target_type")
    search_fields = ("target_repr", "target_id", "message")
    date_hierarchy = "created_at"
