"""List filters of the atom changelist."""

from django.contrib import admin

from ..atom_types import atom_type_choices
from .workflow import QueueFilter


class AtomTypeFilter(admin.SimpleListFilter):
    title = "atom type"
    parameter_name = "atom_type"

    def lookups(self, request, model_admin):
        return atom_type_choices()

    def queryset(self, request, queryset):
        return queryset.filter(atom_type=self.value()) if self.value() else queryset


class QueueListFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return QueueFilter.lookups()

    def queryset(self, request, queryset):
        return QueueFilter.apply(queryset, self.value(), request.user)
