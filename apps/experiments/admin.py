"""Experiments in the admin: define one (arms, split, start and end) through
``experiment_save``, read its analysis (read-only page, ``view_experiment_analysis``)."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.core.admin import ReadOnlyAdmin

from .models import Arm, AssignedBy, Assignment, Experiment
from .permissions import ANALYSIS_PERMISSION
from .selectors import experiment_analysis
from .services import experiment_arms_check, experiment_arms_locked, experiment_save


class ArmFormSet(BaseInlineFormSet):
    def kept_arms(self) -> list[Arm]:
        return [
            form.instance
            for form in self.forms
            if form not in self.deleted_forms and (form.instance.pk or form.has_changed())
        ]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        experiment_arms_check(experiment=self.instance, arms=self.kept_arms())


class ArmInline(admin.TabularInline):
    model = Arm
    formset = ArmFormSet
    fields = ("key", "algorithm", "parameters", "weight", "is_control")
    extra = 0
    min_num = 2

    def _locked(self, obj) -> bool:
        return obj is not None and experiment_arms_locked(obj)

    def has_add_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_delete_permission(request, obj)


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = ("name", "course", "starts_at", "ends_at", "assigned_by", "analysis")
    list_filter = ("assigned_by", "course")
    search_fields = ("name",)
    fields = ("name", "course", "hypothesis", "starts_at", "ends_at")
    inlines = [ArmInline]

    def has_delete_permission(self, request, obj=None):
        return False  # assignments and their analysis are kept; end an experiment instead

    def has_change_permission(self, request, obj=None):
        # the rollout's periods follow its percent flag (apps/legacy_sync/live/rollout.py):
        # shown read-only, changed only by changing the flag
        if obj is not None and obj.assigned_by == AssignedBy.ROLLOUT:
            return False
        return super().has_change_permission(request, obj)

    def get_urls(self):
        analysis = path(
            "<uuid:experiment_id>/analysis/",
            self.admin_site.admin_view(self.analysis_view),
            name="experiments_experiment_analysis",
        )
        return [analysis, *super().get_urls()]

    @admin.display(description="Analysis")
    def analysis(self, experiment):
        url = reverse("admin:experiments_experiment_analysis", args=[experiment.pk])
        return format_html('<a href="{}">analysis</a>', url)

    def save_model(self, request, obj, form, change):
        pass  # saved with its arms in save_related, through the service

    def save_related(self, request, form, formsets, change):
        arm_formset = next(f for f in formsets if isinstance(f, ArmFormSet))
        arms = arm_formset.kept_arms() if arm_formset.forms else list(form.instance.arms.all())
        new = [arm for arm in arms if arm._state.adding]
        try:
            experiment_save(experiment=form.instance, arms=arms, by=request.user)
        except ValidationError as exc:  # a race with the first assignment: say so, save nothing
            raise PermissionDenied("; ".join(exc.messages)) from exc
        # what formset.save() would have noted, for the admin's history message
        arm_formset.new_objects = new
        arm_formset.changed_objects = [
            (f.instance, f.changed_data)
            for f in arm_formset.forms
            if f.instance in arms and f.instance not in new and f.has_changed()
        ]
        arm_formset.deleted_objects = [f.instance for f in arm_formset.deleted_forms]

    def analysis_view(self, request, experiment_id):
        """GET only, and reads only."""
        if not request.user.has_perm(ANALYSIS_PERMISSION):
            raise PermissionDenied
        experiment = get_object_or_404(Experiment, pk=experiment_id)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Analysis of {experiment}",
            "analysis": experiment_analysis(experiment=experiment),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/experiments/analysis.html", context)


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ("experiment", "arm", "learner", "assigned_at")
    list_filter = ("experiment",)
    search_fields = ("learner__email",)
    list_select_related = ("experiment", "arm", "learner")
