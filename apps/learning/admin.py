from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from apps.core.admin import ReadOnlyAdmin

from .models import (
    Attempt,
    LearnerDayRollup,
    ProgressSnapshot,
    StudySession,
    StudyTask,
    XPEvent,
)
from .services.progress import progress_restore


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ("answered_at", "learner", "atom", "correct", "score", "quality", "archived_in")
    list_filter = ("correct", "atom__atom_type")
    search_fields = ("learner__email", "atom__title", "client_attempt_id")
    list_select_related = ("learner", "atom")
    date_hierarchy = "answered_at"


@admin.register(StudySession)
class StudySessionAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "learner", "kind", "completed_at", "device", "app_version")
    list_filter = ("kind",)
    search_fields = ("learner__email",)
    list_select_related = ("learner",)


@admin.register(XPEvent)
class XPEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "learner", "amount", "reason")
    list_filter = ("reason",)
    search_fields = ("learner__email",)
    list_select_related = ("learner",)


@admin.register(StudyTask)
class StudyTaskAdmin(ReadOnlyAdmin):
    """Learners' planner tasks (migrated from v1). Read-only: a task is its learner's to mark
    done or dismiss (PATCH /api/v1/tasks/{id}/); staff need ``learning.view_studytask``
    (Migration staff: apps/learning/permissions.py)."""

    list_display = ("title", "learner", "course", "due_at", "priority", "status", "origin")
    list_filter = ("status", "origin", "priority")
    search_fields = ("title", "course", "learner__email", "legacy_key")
    list_select_related = ("learner",)
    date_hierarchy = "due_at"


@admin.register(LearnerDayRollup)
class LearnerDayRollupAdmin(ReadOnlyAdmin):
    """Derived data: each learner's attempts per local day (``learning_rollups_rebuild``)."""

    list_display = ("day", "learner", "attempts", "correct", "time_spent_ms", "timezone")
    search_fields = ("learner__email",)
    list_select_related = ("learner",)
    date_hierarchy = "day"


@admin.register(ProgressSnapshot)
class ProgressSnapshotAdmin(ReadOnlyAdmin):
    """Resets learners made; staff restore one with the action below."""

    list_display = (
        "created_at",
        "learner",
        "attempt_count",
        "session_count",
        "xp_total",
        "restored_at",
        "restored_by",
    )
    search_fields = ("learner__email",)
    list_select_related = ("learner", "restored_by")
    actions = ["restore_selected"]

    @admin.action(description="Restore the selected learners' progress")
    def restore_selected(self, request, queryset):
        if not request.user.has_perm("learning.change_progresssnapshot"):
            self.message_user(request, "You may not restore progress.", messages.ERROR)
            return
        for snapshot in queryset.select_related("learner"):
            try:
                progress_restore(snapshot=snapshot, by=request.user)
                self.message_user(request, f"Restored {snapshot.learner}'s progress.")
            except ValidationError as exc:
                self.message_user(request, f"{snapshot}: {exc.messages[0]}", messages.WARNING)
