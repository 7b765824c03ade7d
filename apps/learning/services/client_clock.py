"""Times a client sends (an offline answer, a session's start or end) are believed within
bounds: no further ahead of the server's clock than ATTEMPT_MAX_CLOCK_SKEW_S, and no older
than ATTEMPT_MAX_AGE_DAYS. Without them a session started in year 9999 could never end."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone


def client_time_problem(value: datetime, *, now: datetime | None = None) -> str | None:
    """Why ``value`` is not believable as a client's clock reading, or None when it is."""
    now = now or timezone.now()
    if value > now + timedelta(seconds=settings.ATTEMPT_MAX_CLOCK_SKEW_S):
        return "Is in the future."
    if value < now - timedelta(days=settings.ATTEMPT_MAX_AGE_DAYS):
        return f"Is older than {settings.ATTEMPT_MAX_AGE_DAYS} days."
    return None
