"""django-axes hooks: lock by normalised email, and answer lockouts in the right format."""

from django.conf import settings
from django.shortcuts import render

from apps.core.errors import AccountLocked, json_error_response

from .models import User, normalize_email_address

# Imported from AccountsConfig.ready(): this import also connects the user cache's invalidation.
from .services import user_tokens_revoke


def lockout_username(request, credentials: dict | None) -> str:
    """Count failures per account whatever case the email was typed in."""
    credentials = credentials or {}
    raw = credentials.get("email") or credentials.get("username")
    if raw is None and request is not None:
        data = getattr(request, "data", None) or request.POST
        raw = data.get("email") or data.get("username")
    return normalize_email_address(raw or "")


def cooloff_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_response(request, original_response=None, credentials=None):
    if request.path.startswith("/api/"):
        locked = AccountLocked(wait_s=cooloff_seconds())
        response = json_error_response(
            locked.status_code,
            locked.default_code,
            str(locked.detail),
            {"retry_after_s": locked.wait},
        )
    else:
        response = render(
            request,
            "accounts/lockout.html",
            {"cooloff_minutes": cooloff_seconds() // 60},
            status=AccountLocked.status_code,
        )
    response["Retry-After"] = str(cooloff_seconds())
    return response


def tokens_revoke_on_lockout(sender, request=None, username=None, **kwargs) -> None:
    """django-axes' ``user_locked_out`` signal: whoever was guessing may already hold a token
    (a password reused elsewhere), so the account's tokens stop working too."""
    user = User.objects.filter(email=normalize_email_address(username or "")).first()
    if user is not None:
        user_tokens_revoke(user=user)
