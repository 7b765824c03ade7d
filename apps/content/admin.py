import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django_jsonform.widgets import JSONFormWidget

from apps.core.admin import ReadOnlyAdmin

from .admin_interchange import AtomInterchangeAdminMixin
from .admin_workflow import AtomWorkflowAdminMixin, QueueFilter
from .atom_types import (
    AtomValidationError,
    OptionData,
    atom_type_choices,
    get_atom_type,
)
from .atom_types.base import parse_model
from .form_schema import form_schema, has_fields
from .media_validation import media_type_validate
from .models import (
    AtomConceptWeight,
    AtomMedia,
    AtomResponseOption,
    AtomRevision,
    ItemAnalysisSettings,
    LearningAtom,
    Tag,
)
from .selectors import atom_learner_view, atom_search
from .services import (
    atom_answer_check,
    atom_derived_fields_refresh,
    atom_edit_guard,
    atom_edit_recorded,
    atom_lock_holder,
    atom_payload_validate,
    available_transitions,
)


def _add_atom_errors(form: forms.BaseForm, error: AtomValidationError) -> None:
    """Show ``content.prompt: ...`` style errors on the JSON field they belong to."""
    for field_path, messages_ in error.errors.items():
        field, _, rest = field_path.partition(".")
        target = field if field in form.fields else None
        for message in messages_:
            text = f"{rest}: {message}" if rest and target else f"{field_path}: {message}"
            form.add_error(target, text)


class LearningAtomForm(forms.ModelForm):
    atom_type_key: str = ""  # set per request by LearningAtomAdmin.get_form
    editing_user = None  # likewise

    class Meta:
        model = LearningAtom
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kind = get_atom_type(self.instance.atom_type or self.atom_type_key)
        if "atom_type" in self.fields:
            self.fields["atom_type"].initial = kind.key
            self.fields["atom_type"].widget = forms.HiddenInput()
        if "content" in self.fields:  # absent when the user may only view
            schema = form_schema(kind.content_model, title=f"{kind.label}: content")
            self.fields["content"].widget = JSONFormWidget(schema=schema)
        if "grading_logic" in self.fields:
            self._set_grading_widget(kind)
        if self.instance._state.adding and "engagement_mode" in self.fields:
            self.fields["engagement_mode"].initial = kind.default_engagement_mode
            self.fields["knowledge_dimension"].initial = kind.default_knowledge_dimension
            self.fields["element_interactivity"].initial = kind.default_element_interactivity

    def _set_grading_widget(self, kind) -> None:
        field = self.fields["grading_logic"]
        if has_fields(kind.grading_model):
            schema = form_schema(kind.grading_model, title=f"{kind.label}: grading")
            field.widget = JSONFormWidget(schema=schema)
        else:
            field.widget = forms.HiddenInput()
            field.required = False
            field.help_text = "Set on the options below."

    def clean_atom_type(self):
        key = self.cleaned_data["atom_type"]
        get_atom_type(key)  # AtomValidationError (a ValidationError) names the known types
        return key

    def clean(self):
        cleaned = super().clean()
        atom_edit_guard(atom=self.instance, by=self.editing_user)  # locks, schedule, archive
        key = cleaned.get("atom_type") or self.instance.atom_type
        if not key or self.errors:
            return cleaned
        kind = get_atom_type(key)
        content, grading = cleaned.get("content"), cleaned.get("grading_logic") or {}
        cleaned["grading_logic"] = grading
        try:
            if kind.uses_options:
                # Options arrive in the inline; the formset runs the full check with them.
                errors = {}
                for model, payload, prefix in (
                    (kind.content_model, content, "content"),
                    (kind.grading_model, grading, "grading_logic"),
                ):
                    try:
                        parse_model(model, payload, prefix)
                    except AtomValidationError as exc:
                        errors |= exc.errors
                if errors:
                    raise AtomValidationError(errors)
            else:
                atom_payload_validate(atom_type=key, content=content, grading_logic=grading)
        except AtomValidationError as exc:
            _add_atom_errors(self, exc)
        return cleaned


class ResponseOptionFormSet(BaseInlineFormSet):
    """Validates the options together with the atom's content (e.g. exactly one correct)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        atom = self.instance
        options = [
            OptionData(
                index=form.cleaned_data["option_index"],
                text=form.cleaned_data["text"],
                is_correct=form.cleaned_data.get("is_correct", False),
                feedback=form.cleaned_data.get("feedback", ""),
                misconception_id=getattr(form.cleaned_data.get("misconception"), "pk", None),
            )
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            atom_payload_validate(
                atom_type=atom.atom_type,
                content=atom.content,
                grading_logic=atom.grading_logic,
                options=options,
            )
        except AtomValidationError as exc:
            # Content and grading errors already show on the main form.
            option_errors = [
                f"{path}: {' '.join(msgs)}" if path != "options" else " ".join(msgs)
                for path, msgs in exc.errors.items()
                if not path.startswith(("content", "grading_logic"))
            ]
            if option_errors:
                raise ValidationError(option_errors) from None


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
    autocomplete_fields = ("concept",)
    extra = 0


class AtomMediaForm(forms.ModelForm):
    class Meta:
        model = AtomMedia
        fields = ("file", "alt_text", "position")

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded and hasattr(uploaded, "content_type"):  # a new upload
            media_type = media_type_validate(uploaded)
            self.instance.kind = media_type.kind
            self.instance.content_type = media_type.content_type
            self.instance.size_bytes = uploaded.size
        return uploaded


class AtomMediaInline(admin.TabularInline):
    model = AtomMedia
    form = AtomMediaForm
    fields = ("file", "alt_text", "position", "kind", "content_type", "size_bytes")
    readonly_fields = ("kind", "content_type", "size_bytes")
    extra = 0


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


@admin.register(LearningAtom)
class LearningAtomAdmin(AtomWorkflowAdminMixin, AtomInterchangeAdminMixin, admin.ModelAdmin):
    form = LearningAtomForm
    list_display = (
        "title",
        "atom_type",
        "status",
        "live_revision",
        "difficulty",
        "concept_list",
        "unlinked_distractors",
        "review_flag_short",
        "updated_at",
    )
    list_filter = (
        QueueListFilter,
        AtomTypeFilter,
        "status",
        "difficulty",
        "concepts__course",
        "tags",
    )
    search_fields = ("title",)  # replaced by atom_search in get_search_results
    filter_horizontal = ("tags",)
    readonly_fields = (
        "status",
        "workflow_summary",
        "external_id",
        "created_by",
        "last_edited_by",
        "created_at",
        "updated_at",
        "preview_link",
        "review_flag",
        "stat_responses",
        "stat_facility",
        "stat_discrimination",
        "stat_computed_at",
    )
    change_form_template = "admin/content/learningatom/change_form.html"
    change_list_template = "admin/content/learningatom/change_list.html"
    actions = ["submit_selected", "approve_selected", "publish_selected", "archive_selected"]
    fieldsets = (
        (None, {"fields": ("atom_type", "title", "status", "workflow_summary", "preview_link")}),
        ("Content", {"fields": ("content", "grading_logic")}),
        (
            "Pedagogy",
            {
                "fields": (
                    "engagement_mode",
                    "knowledge_dimension",
                    "element_interactivity",
                    "difficulty",
                    "estimated_time_s",
                    "tags",
                )
            },
        ),
        ("IRT parameters", {"classes": ("collapse",), "fields": ("irt_a", "irt_b", "irt_c")}),
        (
            "Item statistics",
            {
                "classes": ("collapse",),
                "fields": (
                    "review_flag",
                    "stat_responses",
                    "stat_facility",
                    "stat_discrimination",
                    "stat_computed_at",
                ),
            },
        ),
        (
            "Record",
            {
                "classes": ("collapse",),
                "fields": (
                    "external_id",
                    "schema_version",
                    "created_by",
                    "last_edited_by",
                    "created_at",
                    "updated_at",
                ),
            },
        ),
    )

    # --- type-dependent form and inlines --------------------------------------------------
    def _atom_type_key(self, request, obj=None) -> str:
        if obj is not None:
            return obj.atom_type
        return request.POST.get("atom_type") or request.GET.get("atom_type", "")

    def get_form(self, request, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change=change, **kwargs)
        attrs = {"atom_type_key": self._atom_type_key(request, obj), "editing_user": request.user}
        return type(base.__name__, (base,), attrs)

    def get_inlines(self, request, obj):
        kind = get_atom_type(self._atom_type_key(request, obj))
        options = [ResponseOptionInline] if kind.uses_options else []
        return [*options, ConceptWeightInline, AtomMediaInline]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        key = self._atom_type_key(request)
        if key not in dict(atom_type_choices()):
            return TemplateResponse(
                request,
                "admin/content/learningatom/choose_type.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "title": "Choose the type of atom to add",
                    "choices": [
                        (k, label, get_atom_type(k).__doc__ or "")
                        for k, label in atom_type_choices()
                    ],
                },
            )
        return super().add_view(request, form_url, extra_context)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial["content"] = initial.get("content") or {}
        return initial

    # --- saving ----------------------------------------------------------------------------
    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        atom = form.instance
        atom_derived_fields_refresh(atom=atom)
        if form.has_changed() or any(fs.has_changed() for fs in formsets):
            atom_edit_recorded(
                atom=atom,
                by=request.user,
                source="admin",
                message="Edited in the admin" if change else "Created in the admin",
            )
        unlinked = atom.options.filter(is_correct=False, misconception__isnull=True).count()
        if unlinked:
            self.message_user(
                request,
                f"{unlinked} wrong option(s) have no misconception linked; learners who pick "
                "them get no targeted remediation.",
                level=messages.WARNING,
            )

    # --- list ------------------------------------------------------------------------------
    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("published_revision")
            .prefetch_related("concepts")
            .annotate(
                unlinked_total=Count(
                    "options",
                    filter=Q(options__is_correct=False, options__misconception__isnull=True),
                    distinct=True,
                )
            )
        )

    def get_search_results(self, request, queryset, search_term):
        if not search_term:
            return queryset, False
        return atom_search(text=search_term, queryset=queryset), False

    @admin.display(description="Concepts")
    def concept_list(self, atom):
        return ", ".join(c.text for c in atom.concepts.all())

    @admin.display(description="Unlinked distractors", ordering="unlinked_total")
    def unlinked_distractors(self, atom):
        if atom.unlinked_total:
            return format_html('<span style="color:#b35c00">⚠ {}</span>', atom.unlinked_total)
        return "—"

    @admin.display(description="Learner preview")
    def preview_link(self, atom):
        if atom._state.adding:
            return "Save to preview."
        url = reverse("admin:content_learningatom_preview", args=[atom.pk])
        return format_html('<a href="{}">Preview and check an answer →</a>', url)

    # --- preview and "check an answer" -----------------------------------------------------
    def get_urls(self):
        preview = path(
            "<uuid:object_id>/preview/",
            self.admin_site.admin_view(self.preview_view),
            name="content_learningatom_preview",
        )
        return [preview, *self.workflow_urls(), *self.interchange_urls(), *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        atom = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if atom is not None:
            extra_context |= {
                "transitions": available_transitions(atom=atom, user=request.user),
                "lock": atom_lock_holder(atom=atom),
                "can_schedule": request.user.has_perm("content.publish_atom"),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    # --- workflow display and bulk actions -------------------------------------------------
    @admin.display(description="Workflow")
    def workflow_summary(self, atom):
        if atom._state.adding:
            return "New atoms start as drafts."
        live = atom.published_revision
        parts = [
            f"Live: revision {live.number}" if live else "Not live",
            f"scheduled to publish {atom.publish_at:%Y-%m-%d %H:%M} UTC" if atom.publish_at else "",
            f"expires {atom.expire_at:%Y-%m-%d %H:%M} UTC" if atom.expire_at else "",
        ]
        lock = atom_lock_holder(atom=atom)
        if lock:
            parts.append(f"locked by {lock.held_by} until {lock.expires_at:%H:%M} UTC")
        return " · ".join(p for p in parts if p)

    @admin.display(description="Live")
    def live_revision(self, atom):
        return f"r{atom.published_revision.number}" if atom.published_revision_id else "—"

    @admin.display(description="Stats flag")
    def review_flag_short(self, atom):
        return (
            format_html('<span title="{}">⚑</span>', atom.review_flag) if atom.review_flag else ""
        )

    @admin.action(description="Submit selected atoms for review")
    def submit_selected(self, request, queryset):
        self._bulk(request, queryset, "submit")

    @admin.action(description="Approve selected atoms")
    def approve_selected(self, request, queryset):
        self._bulk(request, queryset, "approve")

    @admin.action(description="Publish selected atoms")
    def publish_selected(self, request, queryset):
        self._bulk(request, queryset, "publish")

    @admin.action(description="Archive selected atoms")
    def archive_selected(self, request, queryset):
        self._bulk(request, queryset, "archive")

    def preview_view(self, request, object_id):
        atom = get_object_or_404(LearningAtom, pk=object_id)
        if not self.has_view_or_change_permission(request, atom):
            raise PermissionDenied
        kind = get_atom_type(atom.atom_type)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": atom,
            "title": f"Preview: {atom.title}",
            "response_schema": json.dumps(
                kind.response_model.model_json_schema().get("properties", {}), indent=2
            ),
            "response_text": request.POST.get("response", ""),
        }
        try:
            context["learner_view"] = atom_learner_view(atom)
            context["learner_json"] = json.dumps(context["learner_view"], indent=2)
        except AtomValidationError as exc:
            context["invalid_atom"] = exc.errors
        if request.method == "POST":
            context.update(self._check_answer(atom, request.POST.get("response", "")))
        return TemplateResponse(request, "admin/content/learningatom/preview.html", context)

    def _check_answer(self, atom, response_text: str) -> dict:
        try:
            response = json.loads(response_text)
        except json.JSONDecodeError as exc:
            return {"answer_errors": {"response": [f"Not valid JSON: {exc.msg}."]}}
        try:
            return {"grade": atom_answer_check(atom=atom, response=response)}
        except AtomValidationError as exc:
            return {"answer_errors": exc.errors}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)
    list_display = ("name", "atom_count")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(atom_total=Count("atoms"))

    @admin.display(description="Atoms", ordering="atom_total")
    def atom_count(self, tag):
        return tag.atom_total


@admin.register(AtomRevision)
class AtomRevisionAdmin(ReadOnlyAdmin):
    list_display = ("atom", "number", "source", "created_by", "created_at", "message")
    list_filter = ("source",)
    search_fields = ("atom__title", "message")


@admin.register(ItemAnalysisSettings)
class ItemAnalysisSettingsAdmin(admin.ModelAdmin):
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
