"""The atom's inlines: response options, concept weights, media. Their formsets (forms.py)
validate through the services; LearningAtomAdmin.save_related saves them through the services."""

from django.contrib import admin
from django.utils.html import format_html

from ..models import AtomConceptWeight, AtomMedia, AtomResponseOption
from .forms import AtomMediaForm, AtomMediaFormSet, ConceptWeightFormSet, ResponseOptionFormSet


class ResponseOptionInline(admin.TabularInline):
    model = AtomResponseOption
    formset = ResponseOptionFormSet
    fields = (
        "option_index",
        "text",
        "is_correct",
        "feedback",
        "misconception",
        "distractor_check",
        "selection_count",
    )
    readonly_fields = ("distractor_check", "selection_count")
    autocomplete_fields = ("misconception",)
    extra = 0
    ordering = ("option_index",)

    @admin.display(description="Check")
    def distractor_check(self, option):
        saved = not option._state.adding  # UUID pks exist before saving, so check state
        if saved and not option.is_correct and option.misconception_id is None:
            return format_html(
                '<span class="distractor-warning" style="color:#b35c00">{}</span>',
                "⚠ wrong option without a misconception",
            )
        return ""


class ConceptWeightInline(admin.TabularInline):
    model = AtomConceptWeight
    formset = ConceptWeightFormSet
    autocomplete_fields = ("concept",)
    extra = 0


class AtomMediaInline(admin.TabularInline):
    model = AtomMedia
    form = AtomMediaForm
    formset = AtomMediaFormSet
    fields = ("file", "alt_text", "position", "kind", "content_type", "size_bytes")
    readonly_fields = ("kind", "content_type", "size_bytes")
    extra = 0
