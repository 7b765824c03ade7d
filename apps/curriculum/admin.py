from django import forms
from django.contrib import admin
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html, format_html_join

from .models import Concept, ConceptPrerequisite, Course, Misconception, Unit
from .selectors import curriculum_report
from .services import concept_prerequisites_check, concept_prerequisites_set


class UnitInline(admin.TabularInline):
    model = Unit
    fields = ("position", "title", "description")
    extra = 0
    ordering = ("position",)


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = (
        "title",
        "slug",
        "language",
        "jurisdiction",
        "default_algorithm",
        "is_published",
        "unit_count",
        "concept_count",
        "memory_model_check",
    )
    list_filter = ("is_published", "default_algorithm", "language")
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ("health_report", "fsrs_retention_suggestion")
    inlines = [UnitInline]
    fieldsets = (
        (None, {"fields": ("title", "slug", "description", "is_published")}),
        ("Audience", {"fields": ("language", "jurisdiction", "default_algorithm")}),
        (
            "Scheduling",
            {
                "fields": (
                    "desired_retention",
                    "fsrs_retention_suggestion",
                    "maximum_interval_days",
                )
            },
        ),
        ("Daily limits", {"fields": ("new_per_day", "reviews_per_day")}),
        ("Curriculum health", {"fields": ("health_report",)}),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                units_total=Count("units", distinct=True),
                concepts_total=Count("concepts", distinct=True),
            )
        )

    @admin.display(description="Units", ordering="units_total")
    def unit_count(self, course):
        return course.units_total

    @admin.display(description="Concepts", ordering="concepts_total")
    def concept_count(self, course):
        return course.concepts_total

    @admin.display(description="Suggested retention")
    def fsrs_retention_suggestion(self, course):
        """The optimal desired retention for the course's fitted FSRS weights: a suggestion
        only; the desired retention above changes when staff change it."""
        if course._state.adding:
            return "Save the course to see a suggestion."
        # Function-level: the scheduler's models point at curriculum's.
        from apps.scheduler.fsrs_fitting import course_fsrs_fits

        in_use, newest = course_fsrs_fits(course=course)
        if in_use is None:
            if newest is None:
                return "No FSRS parameters fitted from this course's attempts yet (fsrs_fit)."
            return (
                f"FSRS v{newest.version} was fitted on {newest.samples:,} reviews: too few to "
                "use yet, so the default parameters schedule and no retention is suggested."
            )
        retention = in_use.metrics.get("optimal_retention")
        if retention is None:
            return f"FSRS v{in_use.version} ({in_use.samples:,} reviews) has no suggestion."
        return (
            f"Suggested desired retention from the fitted FSRS parameters: {retention:.2f} "
            f"(v{in_use.version}, {in_use.samples:,} reviews)."
        )

    @admin.display(description="Memory model")
    def memory_model_check(self, course):
        # scheduler_evaluate --by-course records the comparison this reads. Function-level:
        # the scheduler's models point at curriculum's.
        from apps.scheduler.evaluation.attempts import course_memory_model_flag

        return course_memory_model_flag(course=course) or "—"

    @admin.display(description="Report")
    def health_report(self, course):
        if course._state.adding:
            return "Save the course to see its report."
        report = curriculum_report(course=course)
        if report.is_clean:
            return "Every concept sits in a unit, is reachable, and has atoms to practise."
        sections = [
            ("Orphans (in no unit; learners never meet them)", report.orphans),
            ("Unreachable (depend on an orphan)", report.unreachable),
            ("No atoms to practise", report.without_atoms),
        ]
        return format_html_join(
            "",
            "<p><strong>{}</strong>: {}</p>",
            ((title, ", ".join(c.text for c in items)) for title, items in sections if items),
        )


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("title", "course", "position")
    list_filter = ("course",)
    list_editable = ("position",)
    search_fields = ("title",)
    ordering = ("course", "position")


class PrerequisiteInlineFormSet(BaseInlineFormSet):
    """The concept's prerequisites, checked by the service's rules (a cycle is named) and
    saved by the service (ConceptAdmin.save_formset), never by the formset itself."""

    def chosen(self) -> list:
        return [
            form.cleaned_data["prerequisite"]
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("prerequisite")
        ]

    def clean(self):
        super().clean()
        if not any(self.errors):
            concept_prerequisites_check(concept=self.instance, prerequisites=self.chosen())


class PrerequisiteInline(admin.TabularInline):
    model = ConceptPrerequisite
    fk_name = "concept"
    formset = PrerequisiteInlineFormSet
    autocomplete_fields = ("prerequisite",)
    extra = 0
    verbose_name = "prerequisite (learned before this concept)"


class MisconceptionInline(admin.StackedInline):
    model = Misconception
    fields = ("name", "description", "remediation")
    extra = 0


class ConceptForm(forms.ModelForm):
    class Meta:
        model = Concept
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        course, units = cleaned.get("course"), cleaned.get("units")
        if course and units:
            foreign = [u.title for u in units if u.course_id != course.pk]
            if foreign:
                self.add_error("units", f"These units belong to another course: {foreign}.")
        return cleaned


@admin.register(Concept)
class ConceptAdmin(admin.ModelAdmin):
    form = ConceptForm
    list_display = ("text", "course", "difficulty", "unit_list", "prerequisite_list")
    list_filter = ("course", "difficulty")
    search_fields = ("text", "translation", "description")
    filter_horizontal = ("units",)
    inlines = [PrerequisiteInline, MisconceptionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("units", "prerequisites")

    def save_formset(self, request, form, formset, change):
        if isinstance(formset, PrerequisiteInlineFormSet):
            concept_prerequisites_set(
                concept=form.instance,
                prerequisites=formset.chosen(),
                by=request.user,
                source="admin",
            )
            # What formset.save() would have set, for the admin's change message.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        else:
            super().save_formset(request, form, formset, change)

    @admin.display(description="Units")
    def unit_list(self, concept):
        return ", ".join(u.title for u in concept.units.all()) or format_html(
            '<span style="color:#b00">{}</span>', "no unit"
        )

    @admin.display(description="Prerequisites")
    def prerequisite_list(self, concept):
        return ", ".join(p.text for p in concept.prerequisites.all())


@admin.register(Misconception)
class MisconceptionAdmin(admin.ModelAdmin):
    list_display = ("name", "concept", "linked_options")
    list_filter = ("concept__course",)
    search_fields = ("name", "description", "concept__text")
    autocomplete_fields = ("concept",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(option_total=Count("options"))

    @admin.display(description="Linked wrong options", ordering="option_total")
    def linked_options(self, misconception):
        return misconception.option_total
