"""JWT checks beyond the signature: a token issued before the user's password change,
deactivation or lockout (``User.tokens_valid_after``) is refused, access and refresh alike.

The user a fresh access token names is read from the cache (``AUTH_USER_CACHE_S``, on by
default when the cache is Redis, shared by every process), not from the database on every
request. Every save or delete of a user gives its entry a new generation at once and again
when the transaction commits (``user_cache_invalidate``), so a revocation, deactivation,
password change or lockout is refused on the very next request, and a request that read the
row before the change stores it under a generation nobody accepts. Writes that bypass
``save()`` (``QuerySet.update``) are seen after the TTL."""

import copy
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
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


GENERATION_S = 86400  # far longer than any entry lives


def user_cache_keys(user_id) -> tuple[str, str]:
    """The cached user, and its generation: a random value replaced on every change."""
    return f"auth:user:{user_id}", f"auth:user-gen:{user_id}"


def user_cache_seconds() -> int:
    return int(getattr(settings, "AUTH_USER_CACHE_S", 0))


def user_cache_invalidate(user_id) -> None:
    """A new generation for the user's cache entry, now and once the current transaction
    commits: a request that read the row before the commit stored it under an older
    generation, which no request accepts. Done even where this process's setting is off:
    another process sharing the cache may have it on."""
    if user_id is None:
        return
    _, generation_key = user_cache_keys(user_id)

    def bump() -> None:
        cache.set(generation_key, uuid.uuid4().hex, GENERATION_S)

    bump()
    transaction.on_commit(bump)


def _cacheable(user: User) -> User:
    """A copy without the password hash (it stays out of the cache: deferred, it is read
    back on access) and without related objects."""
    cached = copy.copy(user)
    cached._state = copy.copy(user._state)
    cached._state.fields_cache = {}
    if not api_settings.CHECK_REVOKE_TOKEN:
        cached.__dict__.pop("password", None)
    return cached


class JWTAuthentication(authentication.JWTAuthentication):
    def get_user(self, validated_token):
        seconds = user_cache_seconds()
        user_id = validated_token.get(api_settings.USER_ID_CLAIM)
        if seconds and user_id is not None:
            user = self._cached_user(user_id, validated_token, seconds)
        else:
            user = super().get_user(validated_token)  # unknown or inactive users are refused
        if not token_is_current(user, validated_token):
            raise AuthenticationFailed(REVOKED, code="token_revoked")
        return user

    def _cached_user(self, user_id, validated_token, seconds: int) -> User:
        """One cache round trip (the entry and the generation); the database on a miss."""
        key, generation_key = user_cache_keys(user_id)
        found = cache.get_many([key, generation_key])
        generation = found.get(generation_key)
        entry = found.get(key)
        if entry is not None and entry[0] == generation:
            user = entry[1]
            if not user.is_active:  # never cached so; a cache is not trusted blindly
                raise AuthenticationFailed("User is inactive", code="user_inactive")
            return user
        user = super().get_user(validated_token)
        if generation is None:  # first use, or evicted: start one, unless a change just did
            generation = uuid.uuid4().hex
            if not cache.add(generation_key, generation, GENERATION_S):
                return user
        # Under the generation read before the row: if the row changed since, so did it.
        cache.set(key, (generation, _cacheable(user)), seconds)
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
