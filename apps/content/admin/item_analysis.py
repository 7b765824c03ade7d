from django.contrib import admin

from ..models import ItemAnalysisSettings


@admin.register(ItemAnalysisSettings)
class ItemAnalysisSettingsAdmin(admin.ModelAdmin):
    """The single row of thresholds that flag atoms for re-review."""

    list_display = (
        "__str__",
        "min_responses",
        "min_facility",
        "max_facility",
        "min_discrimination",
    )

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ItemAnalysisSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
