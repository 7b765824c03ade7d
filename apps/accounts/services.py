from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone as django_timezone

from apps.core.services import audit_record
from apps.core.signals import learner_leagues_opt_in_changed, learner_timezone_changed
from apps.core.sync_port import rows_changed

from .authentication import user_cache_invalidate
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
        user = User.objects.create_user(
            email,
            password,
            display_name=display_name,
            timezone=timezone,
            is_staff=is_staff,
            is_superuser=is_superuser,
        )
        if not (is_staff or is_superuser):  # v1 has learners only
            rows_changed(entity="users", ids=[user.pk])
        return user


PROFILE_FIELDS = (
    "display_name",
    "timezone",
    "daily_new_limit",
    "daily_review_limit",
    "leagues_opt_in",
)


class Unset:
    """Not given, for fields where None is a value (a daily limit cleared: the course's)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset()


def user_update_profile(
    *,
    user: User,
    display_name: str | None = None,
    timezone: str | None = None,
    daily_new_limit: int | Unset | None = UNSET,
    daily_review_limit: int | Unset | None = UNSET,
    leagues_opt_in: bool | None = None,
    by=None,
    source: str = "api",
) -> User:
    """Change the learner-editable fields; the time zone must be an IANA name. The daily
    limits are the learner's own for next items in every course (0-9999; None gives each
    course's back). ``leagues_opt_in`` joins or leaves weekly leagues (apps/leagues places
    or removes them after the commit). A change is audited (``by`` defaults to the user: the
    learner's own edit) and, for learners, announced to the sync; saving the same values
    records nothing."""
    wanted = {"display_name": display_name, "timezone": timezone}
    wanted["leagues_opt_in"] = leagues_opt_in
    wanted = {field: value for field, value in wanted.items() if value is not None}
    limits = {"daily_new_limit": daily_new_limit, "daily_review_limit": daily_review_limit}
    wanted |= {field: value for field, value in limits.items() if value is not UNSET}
    changes = {
        field: [getattr(user, field), value]
        for field, value in wanted.items()
        if value != getattr(user, field)
    }
    for field, (_, value) in changes.items():
        setattr(user, field, value)
    user.full_clean(exclude=["password"])
    if not changes:
        return user
    with transaction.atomic():
        user.save(update_fields=[*changes, "updated_at"])
        audit_record(actor=by or user, source=source, action="profile_edit", target=user,
                     details=changes)  # fmt: skip
        if not (user.is_staff or user.is_superuser):  # v1 shows learners their profile too
            rows_changed(entity="users", ids=[user.pk])
        if "timezone" in changes:
            transaction.on_commit(lambda: learner_timezone_changed.send(sender=User, learner=user))
        if "leagues_opt_in" in changes:
            opted_in = user.leagues_opt_in
            transaction.on_commit(
                lambda: learner_leagues_opt_in_changed.send(
                    sender=User, learner=user, opted_in=opted_in
                )
            )
    return user


def user_tokens_revoke(*, user: User) -> User:
    """Refuse every API token issued to ``user`` until now (deactivation, lockout). A new
    login issues fresh ones; a password change does the same through User.set_password."""
    user.tokens_valid_after = django_timezone.now()
    user.save(update_fields=["tokens_valid_after", "updated_at"])
    user_cache_invalidate(user.pk)  # the save's receiver does too; this one is the contract
    return user


def _user_cache_invalidate(sender, instance, **kwargs) -> None:
    """Any saved or deleted user leaves the authentication cache: a password change through
    any door (``User.set_password`` then ``save``), a deactivation in the admin, a lockout, a
    profile edit. Connected here because this module is imported in every process (the
    admin's autodiscovery imports apps/accounts/admin.py, which imports it)."""
    user_cache_invalidate(instance.pk)


post_save.connect(_user_cache_invalidate, sender=User, dispatch_uid="accounts_user_cache_save")
post_delete.connect(_user_cache_invalidate, sender=User, dispatch_uid="accounts_user_cache_del")
