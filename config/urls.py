from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core.views import api_not_found, healthz, readyz

admin.site.site_header = "Adaptive Learning Platform"
admin.site.site_title = "Adaptive Learning admin"
admin.site.index_title = "Content, learners and migration"

api_v1 = [
    path("", include("apps.accounts.urls")),
    path("", include("apps.curriculum.urls")),
    path("", include("apps.content.urls")),
    path("", include("apps.learning.urls")),
    path("", include("apps.scheduler.urls")),
    path("", include("apps.assessment.urls")),  # mock tests
    path("", include("apps.leagues.urls")),  # weekly leagues
    path("", include("apps.achievements.urls")),  # badges: /me/achievements/
    path("", include("apps.analytics.urls")),  # the analytics event log (staff)
    path("", include("apps.experiments.urls")),  # experiments and their analysis (staff)
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/auth/", include("rest_framework.urls", namespace="rest_framework")),
    path("api/v1/", include(api_v1)),
    # Last: any other /api/ path is a JSON 404, never Django's HTML page. A prefix match, so a
    # path holding a newline (%0A) is caught too (".*$" stopped at it).
    re_path(r"^api/", api_not_found),
]

if settings.LEGACY_SYNC_ENABLED:
    urlpatterns.insert(3, path("staff/migration/", include("apps.legacy_sync.urls")))

if settings.SERVE_LOCAL_MEDIA:
    # MEDIA_ROOT served by the app: production on one host (DJANGO_SERVE_LOCAL_MEDIA).
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]
elif not settings.AWS_STORAGE_BUCKET_NAME:
    # Filesystem media in development (static() is a no-op unless DEBUG); S3 serves its own.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler500 = "apps.core.views.server_error"
