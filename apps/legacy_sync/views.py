"""The staff migration status pages (/staff/migration/): the overview, its htmx fragments, the
same figures as JSON, and the drill-down into one reconciliation run's differences.

Only for users with ``legacy_sync.view_migration_status`` (the Migration staff group, and
superusers): anonymous users are sent to the admin login, anyone else gets a 403. The figures
come from apps/legacy_sync/status/, read from the read replica when there is one (inside the
access checks, so the session and permissions are read from the primary).
"""

from functools import wraps

from django import forms
from django.contrib import admin
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from apps.accounts.mfa import mfa_pending
from apps.core.replica import replica_reads

from .models import ReconciliationRun
from .status import (
    SECTIONS,
    migration_status,
    reconciliation_differences,
    reconciliation_entities,
    status_section,
)

STATUS_PERMISSION = "legacy_sync.view_migration_status"
DIFFERENCES_PER_PAGE = 50


def migration_staff_only(view):
    # login_required first, so anonymous users get the login page rather than a 403.
    guarded = permission_required(STATUS_PERMISSION, raise_exception=True)(view)
    guarded = login_required(require_safe(never_cache(guarded)))

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.headers.get("HX-Request") and not request.user.is_authenticated:
            # A poll after the session expired: htmx would follow a redirect and swap the
            # login form into a panel, so send the whole page to the login instead.
            response = HttpResponse(status=401)
            response["HX-Redirect"] = redirect_to_login(reverse("legacy_sync:status")).url
            return response
        if mfa_pending(request.user):
            return redirect_to_login(request.get_full_path())  # the admin asks for MFA
        return guarded(request, *args, **kwargs)

    return wrapper


def _page_context(request, title: str) -> dict:
    # The pages wear the admin's frame (header, user links, colour theme), which needs the
    # admin site's context.
    return {**admin.site.each_context(request), "title": title}


@migration_staff_only
@replica_reads(read_your_writes=False)
def status_page(request):
    context = {**_page_context(request, "Migration status"), **migration_status()}
    return render(request, "legacy_sync/status.html", context)


@migration_staff_only
@replica_reads(read_your_writes=False)
def status_json(request):
    return JsonResponse(migration_status())


@migration_staff_only
@replica_reads(read_your_writes=False)
def status_fragment(request, section: str):
    """One section of the page, re-rendered for htmx's poll."""
    if section not in SECTIONS:
        raise Http404("No such status section.")
    return render(
        request, f"legacy_sync/fragments/{section}.html", {section: status_section(section)}
    )


class DifferenceFilter(forms.Form):
    EXPLAINED_CHOICES = [("", "all"), ("no", "unexplained"), ("yes", "explained")]

    entity = forms.ChoiceField(required=False)
    explained = forms.ChoiceField(required=False, choices=EXPLAINED_CHOICES)

    def __init__(self, *args, entities: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entity"].choices = [("", "all"), *((name, name) for name in entities)]

    def explained_value(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data["explained"])


@migration_staff_only
@replica_reads(read_your_writes=False)
def reconciliation_run_page(request, run_id: int):
    run = get_object_or_404(ReconciliationRun, pk=run_id)
    filters = DifferenceFilter(request.GET, entities=reconciliation_entities(run=run))
    page = None
    if filters.is_valid():
        differences = reconciliation_differences(
            run=run,
            entity=filters.cleaned_data["entity"],
            explained=filters.explained_value(),
        )
        page = Paginator(differences, DIFFERENCES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        **_page_context(request, f"Reconciliation run {run.pk}"),
        "run": run,
        "filters": filters,
        "page": page,
    }
    status = 400 if filters.errors else 200
    return render(request, "legacy_sync/reconciliation_run.html", context, status=status)
