import hmac

from django.conf import settings
from django.http import JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from .errors import json_error_response
from .health import readiness_report


@never_cache
def healthz(request):
    """Liveness: the process answers. Touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    """Readiness: every dependency answers; 503 names the ones that do not. The details
    (database engines, the broker's address, latencies) are for staff or the READYZ_TOKEN
    holder (``X-Readyz-Token``); a load balancer needs only the status code."""
    ready, checks = readiness_report()
    if not _may_see_readiness_details(request):
        checks = {name: {"ok": check["ok"]} for name, check in checks.items()}
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )


def _may_see_readiness_details(request) -> bool:
    token = settings.READYZ_TOKEN
    sent = request.headers.get("X-Readyz-Token", "")
    if token and hmac.compare_digest(sent.encode(), token.encode()):
        return True
    return request.user.is_authenticated and request.user.is_staff


@csrf_exempt
def api_not_found(request, unmatched_path: str = ""):
    """JSON 404 for any unknown path under /api/, so clients never get an HTML page."""
    details = {"path": request.path}
    if not request.path.endswith("/"):
        try:
            resolve(request.path + "/")
            details["hint"] = f"Did you mean {request.path}/ (with a trailing slash)?"
        except Resolver404:
            pass
    return json_error_response(404, "not_found", "No API endpoint at this path.", details)


def server_error(request, *args, **kwargs):
    """handler500: JSON under /api/, Django's plain page elsewhere."""
    if request.path.startswith("/api/"):
        return json_error_response(500, "internal_error", "An unexpected error occurred.")
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request, *args, **kwargs)
