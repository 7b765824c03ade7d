from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django_otp.plugins.otp_totp.models import TOTPDevice

from .mfa import mfa_reset
from .models import User, normalize_email_address
from .services import PROFILE_FIELDS, user_tokens_revoke, user_update_profile


class UserCreationAdminForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "display_name", "timezone")

    def clean_email(self):
        return normalize_email_address(self.cleaned_data["email"])


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self):
        return normalize_email_address(self.cleaned_data["email"])


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    list_display = (
        "email",
        "display_name",
        "timezone",
        "roles",
        "is_staff",
        "mfa",
        "is_active",
        "date_joined",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    actions = ["mfa_reset_selected"]
    search_fields = ("email", "display_name")
    ordering = ("email",)
    readonly_fields = ("id", "last_login", "date_joined", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        (
            "Profile",
            {"fields": ("display_name", "timezone", "daily_new_limit", "daily_review_limit")},
        ),
        (
            "Roles and permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "display_name", "timezone", "password1", "password2"),
            },
        ),
    )

    def get_queryset(self, request):
        enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return (
            super().get_queryset(request).prefetch_related("groups")
            .annotate(mfa_enrolled=Exists(enrolled))
        )  # fmt: skip

    @admin.display(description="MFA", ordering="mfa_enrolled")
    def mfa(self, user: User) -> str:
        """Enrolment state: staff must enrol before the admin lets them in."""
        if not user.is_staff:
            return "not needed"
        return "enrolled" if user.mfa_enrolled else "not enrolled"

    @admin.action(description="Reset MFA (they enrol again at their next login)")
    def mfa_reset_selected(self, request, queryset):
        try:
            for user in queryset:
                mfa_reset(user=user, by=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        self.message_user(request, f"MFA reset for {queryset.count()} user(s).")

    def save_model(self, request, obj, form, change):
        # The profile goes through its service, as from the API: its checks, its audit row,
        # and the row v1 needs while dual write is on (else v1's old value would come back on
        # a pull). The stock save keeps the stored values; the service makes the change.
        profile = {f: getattr(obj, f) for f in PROFILE_FIELDS if change and f in form.changed_data}
        for field in profile:
            setattr(obj, field, form.initial[field])
        super().save_model(request, obj, form, change)
        if profile:
            user_update_profile(user=obj, by=request.user, source="admin", **profile)
        if change and "is_active" in form.changed_data and not obj.is_active:
            user_tokens_revoke(user=obj)  # reactivating later must not revive old tokens

    @admin.display(description="Roles")
    def roles(self, user: User) -> str:
        return ", ".join(group.name for group in user.groups.all()) or "learner"
