"""Revisions are immutable: the admin lists them read-only (history, diffs and revert live on
the atom's pages, apps/content/admin/workflow.py)."""

from django.contrib import admin

from apps.core.admin import ReadOnlyAdmin

from ..models import AtomRevision


@admin.register(AtomRevision)
class AtomRevisionAdmin(ReadOnlyAdmin):
    list_display = ("atom", "number", "source", "created_by", "created_at", "message")
    list_filter = ("source",)
    search_fields = ("atom__title", "message")
