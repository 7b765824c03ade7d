"""Blueprints are edited here (through ``mock_test_blueprint_save``, like every door), with
each blueprint's pass rate and item statistics; learners' tests are read-only."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.core.admin import ReadOnlyAdmin

from .models import BlueprintSection, MockTest, MockTestBlueprint, MockTestItem
from .selectors import blueprint_item_statistics, blueprint_pass_rate
from .services import SectionInput, mock_test_blueprint_save


class SectionFormSet(BaseInlineFormSet):
    """Checks the sections against the blueprint's course; the service saves them."""

    def clean(self):
        super().clean()
        course_id = self.instance.course_id
        kept = self.kept_forms()
        if not kept and not any(form.errors for form in self.forms):
            raise ValidationError("Add at least one section: a unit or a concept, and a count.")
        for form in kept:
            unit, concept = form.cleaned_data.get("unit"), form.cleaned_data.get("concept")
            if (unit is None) == (concept is None):
                form.add_error(None, "Choose a unit or a concept (one of them).")
            elif course_id and (unit or concept).course_id != course_id:
                form.add_error(
                    "unit" if unit else "concept", "Not part of this blueprint's course."
                )

    def kept_forms(self) -> list[forms.BaseForm]:
        """The sections the blueprint has after the save, in position order."""
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and not (self.can_delete and self._should_delete_form(form))
        ]
        return sorted(kept, key=lambda form: form.cleaned_data.get("position") or 0)

    def save(self, commit=True):
        # Deliberately refused: the admin saves sections through the audited service.
        raise RuntimeError("Blueprint sections save through mock_test_blueprint_save.")


class SectionInline(admin.TabularInline):
    model = BlueprintSection
    formset = SectionFormSet
    fields = ("position", "unit", "concept", "item_count")
    autocomplete_fields = ("concept",)
    extra = 1
    ordering = ("position",)


@admin.register(MockTestBlueprint)
class MockTestBlueprintAdmin(admin.ModelAdmin):
    list_display = (
        "course",
        "time_limit_minutes",
        "pass_mark_percent",
        "items_per_test",
        "pass_rate",
    )
    search_fields = ("course__title",)
    autocomplete_fields = ("course",)
    inlines = [SectionInline]
    readonly_fields = ("pass_rate", "item_statistics")
    fieldsets = (
        (None, {"fields": ("course", "time_limit_minutes", "pass_mark_percent")}),
        ("How learners did", {"fields": ("pass_rate", "item_statistics")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("course").prefetch_related("sections")

    @admin.display(description="Items per test")
    def items_per_test(self, blueprint) -> int:
        return sum(section.item_count for section in blueprint.sections.all())

    @admin.display(description="Pass rate")
    def pass_rate(self, blueprint) -> str:
        if blueprint.pk is None:
            return "–"
        marked, passed = blueprint_pass_rate(blueprint)
        if not marked:
            return "No tests marked yet"
        return f"{passed / marked:.0%} ({passed} of {marked} tests passed)"

    @admin.display(description="Items: times drawn and share answered right")
    def item_statistics(self, blueprint) -> str:
        rows = blueprint_item_statistics(blueprint) if blueprint.pk else []
        if not rows:
            return "No tests drawn yet"
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    row["title"],
                    row["drawn"],
                    row["marked"],
                    f"{row['share_correct']:.0%}" if row["share_correct"] is not None else "–",
                )
                for row in rows
            ),
        )
        return format_html(
            '<table class="mock-test-item-statistics"><thead><tr><th>Item</th>'
            "<th>Times drawn</th><th>In marked tests</th><th>Share right</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            body,
        )

    # --- saving: through the service only ---------------------------------------------------
    def save_model(self, request, obj, form, change):
        """Writes nothing: the blueprint is saved with its sections in ``save_related``."""

    def save_related(self, request, form, formsets, change):
        [sections] = [fs for fs in formsets if fs.model is BlueprintSection]
        mock_test_blueprint_save(
            blueprint=form.instance,
            sections=[
                SectionInput(
                    item_count=f.cleaned_data["item_count"],
                    unit=f.cleaned_data.get("unit"),
                    concept=f.cleaned_data.get("concept"),
                )
                for f in sections.kept_forms()
            ],
            by=request.user,
            source="admin",
        )
        # What the admin's history reads (formset.save() would set these); the audit log
        # holds the full change.
        sections.new_objects, sections.changed_objects, sections.deleted_objects = [], [], []

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as refused:  # the service's checks, lost to a race
            self.message_user(
                request, f"Not saved: {' '.join(refused.messages)}", level=messages.ERROR
            )
            return redirect(request.get_full_path())


class MockTestItemInline(admin.TabularInline):
    model = MockTestItem
    fields = ("position", "atom", "revision", "section_title", "answered_at", "correct")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("position",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MockTest)
class MockTestAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "learner",
        "course",
        "state",
        "correct_count",
        "item_count",
        "passed",
    )
    list_filter = ("passed", "auto_submitted", "course")
    search_fields = ("learner__email",)
    list_select_related = ("learner", "course")
    date_hierarchy = "started_at"
    inlines = [MockTestItemInline]

    @admin.display(description="State")
    def state(self, test) -> str:
        if test.submitted_at is not None:
            return "marked (time ran out)" if test.auto_submitted else "submitted"
        return "time up, marking" if test.is_expired(timezone.now()) else "in progress"
