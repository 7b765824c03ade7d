from django.utils import timezone as django_timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.views import (
    TokenBlacklistView,
    TokenObtainPairView,
    TokenRefreshView,
)

from apps.core.errors import AccountLocked
from apps.core.openapi import error_response
from apps.core.sync_port import learner_cohort

from .authentication import AUTH_TIME
from .lockout import cooloff_seconds
from .models import DAILY_LIMIT_MAX, normalize_email_address
from .selectors import user_role_names
from .services import user_update_profile
from .throttles import LoginRateThrottle
from .validators import validate_iana_timezone


class EmailTokenObtainPairSerializer(TokenObtainPairSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Bounded before any lookup: a megabyte of "email" is a 400, not a database error.
        self.fields[self.username_field] = serializers.CharField(max_length=254)

    @classmethod
    def get_token(cls, user):
        token = super().get_token(user)
        token[AUTH_TIME] = django_timezone.now().timestamp()
        return token

    def validate(self, attrs):
        attrs[self.username_field] = normalize_email_address(attrs[self.username_field])
        return super().validate(attrs)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class TokenObtainView(TokenObtainPairView):
    """Exchange ``{"email", "password"}`` for an access and a refresh token.

    After AXES_FAILURE_LIMIT failures the account is locked for AXES_COOLOFF_MINUTES, and
    even the right password gets 429 ``account_locked``. Each client address may try
    API_THROTTLE_LOGIN logins (any accounts) before it is throttled.
    """

    serializer_class = EmailTokenObtainPairSerializer
    throttle_classes = [AnonRateThrottle, LoginRateThrottle]

    @extend_schema(
        summary="Obtain a JWT pair",
        tags=["auth"],
        responses={
            200: TokenPairSerializer,
            401: error_response("Wrong email or password, or inactive account."),
            429: error_response("Throttled, or the account is locked (account_locked)."),
        },
    )
    def post(self, request, *args, **kwargs):
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            # django-axes flags the (DRF) request when it refused a locked-out account.
            if getattr(request, "axes_locked_out", False):
                raise AccountLocked(wait_s=cooloff_seconds()) from None
            raise


class TokenRefreshAPIView(TokenRefreshView):
    """A new access token and a new refresh token; the refresh token sent is blacklisted, so
    each one works once."""

    @extend_schema(
        summary="Refresh an access token (rotates the refresh token)",
        tags=["auth"],
        request=RefreshInputSerializer,
        responses={
            200: TokenPairSerializer,
            401: error_response(
                "The refresh token is invalid, expired, already used, or older than the "
                "account's last password change, deactivation or lockout (token_not_valid)."
            ),
        },
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class TokenRevokeView(TokenBlacklistView):
    """Log out: the refresh token is blacklisted and can never be refreshed again."""

    @extend_schema(
        summary="Revoke a refresh token (log out)",
        tags=["auth"],
        request=RefreshInputSerializer,
        responses={
            200: None,
            401: error_response("The refresh token is invalid or expired (token_not_valid)."),
        },
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class MeView(APIView):
    @extend_schema_serializer(component_name="Me")
    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        email = serializers.EmailField()
        display_name = serializers.CharField()
        timezone = serializers.CharField()
        is_staff = serializers.BooleanField()
        roles = serializers.ListField(child=serializers.CharField())
        date_joined = serializers.DateTimeField()
        cohort = serializers.ChoiceField(
            choices=["v1", "adaptive"],
            help_text="The adaptive rollout's A/B cohort: clients send `v1` learners to the "
            "static curriculum and `adaptive` ones to the scheduler.",
        )
        daily_new_limit = serializers.IntegerField(
            allow_null=True,
            help_text="The caller's own new atoms per day, in every course; null: each "
            "course's limit.",
        )
        daily_review_limit = serializers.IntegerField(
            allow_null=True,
            help_text="The caller's own reviews per day, in every course; null: each course's.",
        )
        leagues_opt_in = serializers.BooleanField(
            help_text="Whether the caller takes part in weekly leagues (GET /leagues/current/)."
        )

    @extend_schema_serializer(component_name="MeUpdate")
    class InputSerializer(serializers.Serializer):
        display_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        timezone = serializers.CharField(
            max_length=64, required=False, validators=[validate_iana_timezone]
        )
        daily_new_limit = serializers.IntegerField(
            min_value=0, max_value=DAILY_LIMIT_MAX, required=False, allow_null=True,
            help_text="New atoms per day next items offers in any course; null: the course's.",
        )  # fmt: skip
        daily_review_limit = serializers.IntegerField(
            min_value=0, max_value=DAILY_LIMIT_MAX, required=False, allow_null=True,
            help_text="Reviews per day next items offers in any course; null: the course's.",
        )  # fmt: skip
        leagues_opt_in = serializers.BooleanField(
            required=False,
            help_text="true joins weekly leagues (other members see your display name and "
            "week's XP); false leaves them at once.",
        )

    def _render(self, user):
        payload = {
            "id": user.id,
            "email": user.email,
            "display_name": user.display_name,
            "timezone": user.timezone,
            "is_staff": user.is_staff,
            "roles": user_role_names(user=user),
            "date_joined": user.date_joined,
            "cohort": learner_cohort(user),
            "daily_new_limit": user.daily_new_limit,
            "daily_review_limit": user.daily_review_limit,
            "leagues_opt_in": user.leagues_opt_in,
        }
        return Response(self.OutputSerializer(payload).data)

    @extend_schema(summary="The caller", tags=["me"], responses=OutputSerializer)
    def get(self, request):
        return self._render(request.user)

    @extend_schema(
        summary="Update the caller's display name, time zone, daily limits or leagues opt-in",
        tags=["me"],
        request=InputSerializer,
        responses={200: OutputSerializer, 400: error_response("An invalid field.")},
    )
    def patch(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_update_profile(user=request.user, **serializer.validated_data)
        return self._render(user)
