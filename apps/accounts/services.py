from django.db import transaction

from .models import User


def user_create(
    *,
    email: str,
    password: str | None,
    display_name: str = "",
    timezone: str = "UTC",
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create a user; raises ValidationError for a taken email or an unknown time zone."""
    with transaction.atomic():
        return User.objects.create_user(
            email,
            password,
            display_name=display_name,
            timezone=timezone,
            is_staff=is_staff,
            is_superuser=is_superuser,
        )


def user_update_profile(
    *, user: User, display_name: str | None = None, timezone: str | None = None
) -> User:
    """Change the learner-editable fields; the time zone must be an IANA name."""
    if display_name is not None:
        user.display_name = display_name
    if timezone is not None:
        user.timezone = timezone
    user.full_clean(exclude=["password"])
    with transaction.atomic():
        user.save(update_fields=["display_name", "timezone", "updated_at"])
    return user
