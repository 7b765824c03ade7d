"""Rate limits keyed by the client's address, as DRF's NUM_PROXIES setting finds it: the
address the outermost trusted proxy saw, never a value the client can choose.

``UserRateThrottle`` (every authenticated request) costs one Redis round trip: a counter per
user per window (``SET NX EX`` + ``INCR`` + ``PTTL`` in one MULTI), instead of DRF's history
list read and written back whole (two round trips, and up to the rate's count of timestamps
pickled each way). The window starts at the user's first request and lasts the rate's
duration; past the count the answer is 429 with Retry-After until the window ends. As with
any fixed window, a client can fit twice the count in a span straddling two windows; the
anonymous and login limits keep DRF's exact sliding history (they guard passwords, and cost
nothing on authenticated requests). Without Redis the DRF throttle runs unchanged."""

import math

from rest_framework import throttling
from rest_framework.throttling import AnonRateThrottle, BaseThrottle


class LoginRateThrottle(AnonRateThrottle):
    """Logins per client address, whichever accounts they try: the per-account lockout
    (django-axes) alone lets one client spray a password across many accounts."""

    scope = "login"


class UserRateThrottle(throttling.UserRateThrottle):
    """DRF's per-user limit (same scope, rates and 429), counted in one Redis round trip."""

    def allow_request(self, request, view) -> bool:
        client = redis_client(self.cache)
        if client is None or self.rate is None:
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        key = self.cache.make_and_validate_key(f"{self.key}:window")
        with client.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=self.duration, nx=True)
            pipe.incr(key)
            pipe.pttl(key)
            _, count, ttl_ms = pipe.execute()
        self._wait_s = max(ttl_ms, 0) / 1000 if ttl_ms > 0 else float(self.duration)
        return count <= self.num_requests

    def wait(self):
        if hasattr(self, "_wait_s"):
            return math.ceil(self._wait_s) or 1
        return super().wait()


def redis_client(cache):
    """The redis-py client behind Django's RedisCache (write pool), else None. ``cache`` may
    be the ``django.core.cache.cache`` proxy, hence no isinstance on it."""
    from django.core.cache.backends.redis import RedisCacheClient

    backend_client = getattr(cache, "_cache", None)
    if not isinstance(backend_client, RedisCacheClient):
        return None
    return backend_client.get_client(write=True)


def client_address(request) -> str:
    """The client's address for django-axes, by the same rule as the throttles."""
    return BaseThrottle().get_ident(request)
