from django.contrib import admin
from django.db.models import Count

from ..models import Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)
    list_display = ("name", "atom_count")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(atom_total=Count("atoms"))

    @admin.display(description="Atoms", ordering="atom_total")
    def atom_count(self, tag):
        return tag.atom_total
