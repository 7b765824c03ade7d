"""JWT checks beyond the signature: a token issued before the user's password change,
deactivation or lockout (``User.tokens_valid_after``) is refused, access and refresh alike."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication, serializers
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from .models import User

REVOKED = "Token was issued before the account's password change, deactivation or lockout."


AUTH_TIME = "auth_time"  # when the user logged in, to the microsecond (OpenID Connect's name)


def token_is_current(user: User, token) -> bool:
    """Was ``token`` issued after the account's cut-off? ``iat`` has whole seconds only, so
    tokens carry ``auth_time``: a login a moment before a password change is caught too.
    Refreshed tokens keep the ``auth_time`` of the login they come from."""
    if user.tokens_valid_after is None:
        return True
    cutoff = user.tokens_valid_after.timestamp()
    if AUTH_TIME in token:
        return float(token[AUTH_TIME]) >= cutoff
    # Minted without a login (RefreshToken.for_user): whole seconds are all there is.
    return int(token.get("iat", 0)) >= int(cutoff)


class JWTAuthentication(authentication.JWTAuthentication):
    def get_user(self, validated_token):
        user = super().get_user(validated_token)  # unknown or inactive users are refused
        if not token_is_current(user, validated_token):
            raise AuthenticationFailed(REVOKED, code="token_revoked")
        return user


class TokenRefreshSerializer(serializers.TokenRefreshSerializer):
    """Refresh rotates the token and blacklists the old one (SIMPLE_JWT settings); a
    refresh token issued before the cut-off is refused like an expired one."""

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])
        user_id = refresh.payload.get(api_settings.USER_ID_CLAIM)
        user = User.objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
        if user is not None and not token_is_current(user, refresh):
            raise InvalidToken(REVOKED)
        return super().validate(attrs)


class JWTAuthenticationScheme(SimpleJWTScheme):
    """The OpenAPI security scheme of JWTAuthentication above: simplejwt's bearer token."""

    target_class = "apps.accounts.authentication.JWTAuthentication"
