"""Badge definitions, for editors with the achievements permissions (Publishers,
apps/accounts/roles.py), saved through ``badge_save`` / ``badge_delete``; awards are read-only."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from apps.core.admin import ReadOnlyAdmin

from .models import Badge, LearnerBadge
from .services import badge_delete, badge_save, badge_validate


class BadgeForm(forms.ModelForm):
    class Meta:
        model = Badge
        fields = ("name", "description", "icon", "rule", "threshold", "course", "is_active")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            # cleaned_data reaches the instance only after clean(): validate a copy of it.
            badge_validate(Badge(**{f: cleaned.get(f) for f in self.Meta.fields}))
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return cleaned


@admin.register(Badge)
class BadgeAdmin(admin.ModelAdmin):
    form = BadgeForm
    list_display = ("name", "rule", "threshold", "course", "is_active", "earned_by")
    list_filter = ("rule", "is_active")
    search_fields = ("name",)
    actions = None  # bulk delete would skip badge_delete's audit

    @admin.display(description="Earned by")
    def earned_by(self, badge) -> int:
        return badge.awards.count()

    def save_model(self, request, obj, form, change):
        badge_save(badge=obj, by=request.user)

    def delete_model(self, request, obj):
        badge_delete(badge=obj, by=request.user)


@admin.register(LearnerBadge)
class LearnerBadgeAdmin(ReadOnlyAdmin):
    list_display = ("badge", "learner", "earned_at", "figure")
    list_filter = ("badge",)
    search_fields = ("learner__email", "badge__name")
    list_select_related = ("badge", "learner")
