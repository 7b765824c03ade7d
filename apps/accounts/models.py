import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone as django_timezone

from apps.core.models import OriginTracked, origin_unique_constraint

from .validators import validate_iana_timezone

# A learner's own daily limit is at most a course's (apps/curriculum/models.py: DAILY_LIMIT_MAX);
# kept here too, since accounts depends on no other domain app.
DAILY_LIMIT_MAX = 9999


def normalize_email_address(email: str) -> str:
    """Emails are compared case-insensitively, so they are stored lower-cased."""
    return (email or "").strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=normalize_email_address(username))

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email_address(email), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin, OriginTracked):
    """A person: a learner, or staff with roles (groups). Logs in with their email."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(max_length=150, blank=True)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_iana_timezone],
        help_text="IANA time zone name; streaks and days are counted in it.",
    )
    # The learner's own daily limits for next items, in every course; null: each course's.
    daily_new_limit = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(DAILY_LIMIT_MAX)],
        help_text="New atoms per day in any course (empty: the course's limit).",
    )  # fmt: skip
    daily_review_limit = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(DAILY_LIMIT_MAX)],
        help_text="Reviews per day in any course (empty: the course's limit).",
    )  # fmt: skip
    # Weekly leagues are opt-in: until this is set, no other learner sees anything of theirs.
    leagues_opt_in = models.BooleanField(
        default=False, help_text="Takes part in weekly leagues (others see the display name)."
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can log into the admin (authors, reviewers, publishers, staff)."
    )
    date_joined = models.DateTimeField(default=django_timezone.now)
    tokens_valid_after = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="API tokens issued before this are refused: set by a password change, a "
        "deactivation or a lockout.",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="A user with this email address already exists.",
            ),
            origin_unique_constraint("user_legacy_key_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def set_password(self, raw_password) -> None:
        """Every door that changes a password comes here (admin, forms, shell): tokens issued
        with the old one stop working when the user is saved."""
        super().set_password(raw_password)
        self.tokens_valid_after = django_timezone.now()

    def get_full_name(self) -> str:
        return self.display_name or self.email

    def get_short_name(self) -> str:
        return self.display_name or self.email.split("@")[0]

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email_address(self.email)
