"""Guards for the admin's changelist queries, in one place for every ModelAdmin; the read
replica's pin after a user's own write."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseBadRequest

from .replica import SAFE_METHODS, learner_pin


class AdminQueryGuardMiddleware:
    """Changelist filters and searches come straight from the query string:
    - a NUL character reaches PostgreSQL as a string literal it refuses (a 500), so a query
      string holding one is a 400;
    - every search word adds an OR of LIKEs over the search fields, so a pasted essay builds a
      query SQLite cannot parse and PostgreSQL takes seconds over; the search keeps its first
      ADMIN_SEARCH_MAX_WORDS words and says so.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(settings.ADMIN_URL_PREFIX) and request.GET:
            if _has_nul(request.GET):
                return HttpResponseBadRequest("The query string contains a NUL character.")
            words = request.GET.get("q", "").split()
            if len(words) > settings.ADMIN_SEARCH_MAX_WORDS:
                query = request.GET.copy()
                query["q"] = " ".join(words[: settings.ADMIN_SEARCH_MAX_WORDS])
                request.GET = query
                messages.warning(
                    request,
                    f"Searched for the first {settings.ADMIN_SEARCH_MAX_WORDS} words only.",
                )
        return self.get_response(request)


def _has_nul(query) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in query.lists())


class ReplicaPinMiddleware:
    """After an authenticated user's unsafe request (whatever the view), read their
    replica-eligible views from the primary for a few seconds (apps/core/replica.py): the
    replica may not have their write yet. The pin is set before the response leaves, so the
    client's next read sees it. A refused write pins too: a batch may have written some rows,
    and a pin costs one cache write. Without a replica this costs nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in SAFE_METHODS and settings.REPLICA_READS_ENABLED:
            # DRF sets request.user to the token's user once the view authenticated it.
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                learner_pin(user)
        return response
