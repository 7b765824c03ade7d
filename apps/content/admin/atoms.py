"""LearningAtomAdmin: the editors' list and change form of atoms.

Saving goes through the services only, like every other door (API, import, demo data):

- add: ``atom_create`` with the options, concept weights, tags and media of the inlines, in
  ``save_related`` (``save_model`` writes nothing, since the atom needs its inlines). The
  form's unsaved instance then becomes the created row (its id, then refreshed), so the
  admin's history entry and redirect point at it.
- change: ``atom_update`` (options only when their inline changed), ``atom_concept_weights_set``,
  ``atom_tags_set``, ``atom_media_attach`` / ``atom_media_update`` / ``atom_media_detach``, each
  without a revision of its own, then one ``atom_edit_recorded`` if anything changed.

Both run inside the transaction Django's changeform view opens. The form checked everything
the services check, so they refuse only in a race (someone took the lock since): then the
whole save is undone and the page shows why, never a 500.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.html import format_html

from ..atom_types import atom_type_choices, get_atom_type
from ..models import AtomConceptWeight, AtomMedia, AtomResponseOption, LearningAtom
from ..selectors import atom_search
from ..services import (
    ATOM_METADATA_FIELDS,
    atom_concept_weights_set,
    atom_create,
    atom_edit_recorded,
    atom_lock_holder,
    atom_media_attach,
    atom_media_detach,
    atom_media_update,
    atom_tags_set,
    atom_update,
    available_transitions,
)
from .filters import AtomTypeFilter, QueueListFilter
from .forms import LearningAtomForm, ServiceSavedFormSet
from .inlines import AtomMediaInline, ConceptWeightInline, ResponseOptionInline
from .interchange import AtomInterchangeAdminMixin
from .preview import AtomPreviewAdminMixin
from .workflow import AtomWorkflowAdminMixin

# Form fields that atom_update does not take: the type is fixed once created, tags have their
# own service.
_NOT_UPDATED = ("atom_type", "tags")


class _SaveRefused(Exception):
    """A service refused the save after the form validated; carries its ValidationError out
    of the changeform view's transaction, which it rolls back."""

    def __init__(self, error: ValidationError):
        super().__init__(error)
        self.error = error


@admin.register(LearningAtom)
class LearningAtomAdmin(
    AtomWorkflowAdminMixin, AtomInterchangeAdminMixin, AtomPreviewAdminMixin, admin.ModelAdmin
):
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

    # --- saving: through the services only -------------------------------------------------
    def save_model(self, request, obj, form, change):
        """Writes nothing: the atom is saved with its inlines in ``save_related``."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _SaveRefused as refused:
            self.message_user(
                request, f"Not saved: {' '.join(refused.error.messages)}", level=messages.ERROR
            )
            return redirect(request.get_full_path())

    def save_related(self, request, form, formsets, change):
        inline = {formset.model: formset for formset in formsets}
        try:
            if change:
                new_media = self._save_changes(request, form, inline)
            else:
                new_media = self._create(request, form, inline)
        except ValidationError as exc:
            raise _SaveRefused(exc) from exc
        for formset in formsets:  # what the admin's history reads, as formset.save() would
            if isinstance(formset, ServiceSavedFormSet):
                formset.note_saved(new_media if formset.model is AtomMedia else None)
        atom = form.instance
        unlinked = atom.options.filter(is_correct=False, misconception__isnull=True).count()
        if unlinked:
            self.message_user(
                request,
                f"{unlinked} wrong option(s) have no misconception linked; learners who pick "
                "them get no targeted remediation.",
                level=messages.WARNING,
            )

    def _create(self, request, form, inline) -> list[AtomMedia]:
        atom = form.instance  # unsaved, with the form's values
        options, weights, media = (
            inline.get(model) for model in (AtomResponseOption, AtomConceptWeight, AtomMedia)
        )
        created = atom_create(
            by=request.user,
            source="admin",
            title=atom.title,
            atom_type=atom.atom_type,
            content=atom.content,
            grading_logic=atom.grading_logic,
            options=options.inputs() if options else (),
            concept_weights=weights.inputs() if weights else (),
            tags=form.cleaned_data.get("tags", ()),
            media=media.inputs() if media else (),
            **{name: getattr(atom, name) for name in ATOM_METADATA_FIELDS},
        )
        # Django logs and redirects to this very instance: make it the stored row.
        atom.pk = created.pk
        atom.refresh_from_db()
        atom._state.adding = False
        return list(atom.media.all())

    def _save_changes(self, request, form, inline) -> list[AtomMedia]:
        if not (form.has_changed() or any(fs.has_changed() for fs in inline.values())):
            return []
        atom, by = form.instance, request.user
        options, weights, media = (
            inline.get(model) for model in (AtomResponseOption, AtomConceptWeight, AtomMedia)
        )
        atom_update(
            atom=atom,
            by=by,
            source="admin",
            record=False,
            options=options.inputs() if options and options.has_changed() else None,
            **{name: getattr(atom, name) for name in form.changed_data if name not in _NOT_UPDATED},
        )
        if weights and weights.has_changed():
            atom_concept_weights_set(atom=atom, by=by, weights=weights.inputs())
        if "tags" in form.changed_data:
            atom_tags_set(atom=atom, by=by, names=form.cleaned_data["tags"])
        added = self._save_media(atom, by, media) if media else []
        atom_edit_recorded(atom=atom, by=by, source="admin")
        return added

    def _save_media(self, atom, by, media) -> list[AtomMedia]:
        for removed in media.removed_forms():
            atom_media_detach(media=removed.instance, by=by, source="admin", record=False)
        for changed in media.changed_forms():
            atom_media_update(
                media=changed.instance,
                by=by,
                alt_text=changed.cleaned_data["alt_text"],
                position=changed.cleaned_data["position"],
                uploaded_file=changed.new_upload(),
                source="admin",
                record=False,
            )
        return [
            atom_media_attach(
                atom=atom,
                by=by,
                uploaded_file=item.uploaded_file,
                alt_text=item.alt_text,
                position=item.position,
                source="admin",
                record=False,
            )
            for item in media.inputs()
        ]

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

    # --- extra pages -----------------------------------------------------------------------
    def get_urls(self):
        return [
            *self.preview_urls(),
            *self.workflow_urls(),
            *self.interchange_urls(),
            *super().get_urls(),
        ]

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
