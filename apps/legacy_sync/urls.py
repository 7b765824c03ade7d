"""The staff migration status pages, mounted at /staff/migration/ (config/urls.py)."""

from django.urls import path

from . import views

app_name = "legacy_sync"

urlpatterns = [
    path("", views.status_page, name="status"),
    path("status.json", views.status_json, name="status-json"),
    path("fragments/<slug:section>/", views.status_fragment, name="status-fragment"),
    path(
        "reconciliation/<int:run_id>/",
        views.reconciliation_run_page,
        name="reconciliation-run",
    ),
]
