"""The atom's learner preview and "check an answer" box, mixed into LearningAtomAdmin.
Reads only: the learner view selector and the grading service, which records nothing."""

import json

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from ..atom_types import AtomValidationError, get_atom_type
from ..models import LearningAtom
from ..selectors import atom_learner_view
from ..services import atom_answer_check


class AtomPreviewAdminMixin:
    """Mixed into LearningAtomAdmin."""

    def preview_urls(self):
        return [
            path(
                "<uuid:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="content_learningatom_preview",
            )
        ]

    @admin.display(description="Learner preview")
    def preview_link(self, atom):
        if atom._state.adding:
            return "Save to preview."
        url = reverse("admin:content_learningatom_preview", args=[atom.pk])
        return format_html('<a href="{}">Preview and check an answer →</a>', url)

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
