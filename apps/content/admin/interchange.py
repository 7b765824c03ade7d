"""Admin pages for bulk import (upload → dry-run preview → confirm, with progress) and
export of whatever the current list filter selects."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from ..models import ImportFormat, ImportJob
from ..selectors import atoms_export_file
from ..services.imports import import_job_confirm, import_job_create

MAX_UPLOAD_BYTES = 50_000_000


class ImportUploadForm(forms.Form):
    file = forms.FileField(help_text="JSON, CSV or Moodle GIFT, UTF-8.")
    # The blank choice comes first: a browser always submits a select's value, so without it
    # every upload would be read as the first format and the file name never consulted.
    format = forms.ChoiceField(
        choices=[("", "From the file name"), *ImportFormat.choices], required=False
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is None:
            return cleaned
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError("Files may be at most 50 MB.")
        if not cleaned.get("format"):
            suffix = upload.name.rsplit(".", 1)[-1].lower()
            guessed = {"json": "json", "csv": "csv", "gift": "gift", "txt": "gift"}.get(suffix)
            if guessed is None:
                raise ValidationError("Choose the format: the file name does not tell.")
            cleaned["format"] = guessed
        return cleaned


class AtomInterchangeAdminMixin:
    """Mixed into LearningAtomAdmin."""

    def interchange_urls(self):
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="content_learningatom_import"),
            path("import/<uuid:job_id>/", view(self.import_job_view),
                 name="content_learningatom_import_job"),
            path("import/<uuid:job_id>/status.json", view(self.import_status_view),
                 name="content_learningatom_import_status"),
            path("export/", view(self.export_view), name="content_learningatom_export"),
        ]  # fmt: skip

    def _require_import(self, request):
        if not (request.user.has_perm("content.import_atoms") and self.has_add_permission(request)):
            raise PermissionDenied

    def import_view(self, request):
        self._require_import(request)
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            job = import_job_create(
                by=request.user,
                uploaded_file=form.cleaned_data["file"],
                file_format=form.cleaned_data["format"],
            )
            return redirect(reverse("admin:content_learningatom_import_job", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import atoms",
            "form": form,
            "recent_jobs": ImportJob.objects.filter(created_by=request.user)[:10],
        }
        return TemplateResponse(request, "admin/content/learningatom/import.html", context)

    def _own_job(self, request, job_id) -> ImportJob:
        self._require_import(request)
        job = get_object_or_404(ImportJob, pk=job_id)
        if job.created_by_id != request.user.pk and not request.user.is_superuser:
            raise PermissionDenied
        return job

    def import_job_view(self, request, job_id):
        job = self._own_job(request, job_id)
        if request.method == "POST":
            try:
                import_job_confirm(job=job, by=request.user)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(
                    request, exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
                )
            return redirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Import: {job.original_name}",
            "job": job,
            "rows": job.plan[:500],
            "more_rows": max(0, len(job.plan) - 500),
            "error_rows": [row for row in job.plan if row["action"] == "error"][:200],
        }
        return TemplateResponse(request, "admin/content/learningatom/import_job.html", context)

    def import_status_view(self, request, job_id):
        job = self._own_job(request, job_id)
        return JsonResponse(
            {
                "status": job.status,
                "total": job.total_rows,
                "processed": job.processed_rows,
                "percent": job.progress_percent,
                "created": job.created_count,
                "updated": job.updated_count,
                "unchanged": job.unchanged_count,
                "errors": job.error_count,
            }
        )

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        # "format" is ours; the rest of the query string is the list's filters.
        query = request.GET.copy()
        file_format = query.pop("format", ["json"])[0]
        request.GET = query
        changelist = self.get_changelist_instance(request)
        body, content_type, suffix = atoms_export_file(
            changelist.get_queryset(request), file_format
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="atoms-{stamp}.{suffix}"'
        return response
