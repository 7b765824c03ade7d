"""The scheduler's state for staff: learners' atom and concept states (read-only), the fitted
model versions, and a learner's memory page (forgetting curves, P(known) over time, due
forecast) reached from a state's row."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.accounts.models import User
from apps.core.admin import ReadOnlyAdmin
from apps.curriculum.models import Course

from .memory import due_forecast, forgetting_curves, p_known_history
from .models import FittedModel, HalfLifeModel, LearnerAtomState, LearnerConceptState

MEMORY_PERMISSION = "scheduler.view_learneratomstate"


def memory_url(learner_id, course_id) -> str:
    return f"{reverse('admin:scheduler_memory')}?learner={learner_id}&course={course_id}"


@admin.register(LearnerAtomState)
class LearnerAtomStateAdmin(ReadOnlyAdmin):
    list_display = ("learner", "atom", "algorithm", "due_at", "last_reviewed_at", "reviews",
                    "lapses", "memory")  # fmt: skip
    list_filter = ("origin",)
    search_fields = ("learner__email", "atom__title")
    list_select_related = ("learner", "atom")
    show_full_result_count = False  # no COUNT(*) over millions of states per page

    def get_urls(self):
        memory = path("memory/", self.admin_site.admin_view(self.memory_view),
                      name="scheduler_memory")  # fmt: skip
        return [memory, *super().get_urls()]

    @admin.display(description="Algorithm")
    def algorithm(self, state):
        return (state.state or {}).get("algorithm", "sm2")

    @admin.display(description="Memory")
    def memory(self, state):
        course = state.atom.concepts.values_list("course_id", flat=True).first()
        if course is None:
            return "-"
        return format_html('<a href="{}">curves</a>', memory_url(state.learner_id, course))

    def memory_view(self, request):
        """GET only, and reads only: the page recomputes everything from stored state."""
        if not request.user.has_perm(MEMORY_PERMISSION):
            raise PermissionDenied
        learner = get_object_or_404(User, pk=request.GET.get("learner") or None)
        course = get_object_or_404(Course, pk=request.GET.get("course") or None)
        curves = forgetting_curves(learner=learner, course=course)
        history = p_known_history(learner=learner, course=course)
        forecast = due_forecast(learner=learner, course=course)
        charts = {
            "target": course.desired_retention,
            "curves": [{"label": c.label, "recall": c.recall} for c in curves],
            "concepts": {
                name: [[t.isoformat(), p] for t, p in points] for name, points in history.items()
            },
            "forecast": forecast,
        }
        context = {
            **self.admin_site.each_context(request),
            "title": f"Memory of {learner} in {course}",
            "learner": learner,
            "course": course,
            "curves": curves,
            "history": history,
            "forecast": forecast,
            "due_total": sum(count for _, count in forecast),
            "charts": charts,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/scheduler/memory.html", context)


@admin.register(LearnerConceptState)
class LearnerConceptStateAdmin(ReadOnlyAdmin):
    list_display = ("learner", "concept", "p_known", "theta", "theta_se", "attempts",
                    "correct_attempts", "last_practised_at", "memory")  # fmt: skip
    search_fields = ("learner__email", "concept__text")
    list_select_related = ("learner", "concept")
    show_full_result_count = False

    @admin.display(description="Memory")
    def memory(self, state):
        return format_html('<a href="{}">curves</a>',
                           memory_url(state.learner_id, state.concept.course_id))  # fmt: skip


@admin.register(FittedModel)
class FittedModelAdmin(ReadOnlyAdmin):
    list_display = ("kind", "course", "concept", "version", "samples", "in_use", "fitted_at")
    list_filter = ("kind", "in_use", "course")
    search_fields = ("course__title", "concept__text")
    list_select_related = ("course", "concept")


@admin.register(HalfLifeModel)
class HalfLifeModelAdmin(ReadOnlyAdmin):
    list_display = ("version", "samples", "final_loss", "alpha", "l2", "trained_at")
