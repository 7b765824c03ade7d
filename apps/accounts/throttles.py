"""Rate limits keyed by the client's address, as DRF's NUM_PROXIES setting finds it: the
address the outermost trusted proxy saw, never a value the client can choose."""

from rest_framework.throttling import AnonRateThrottle, BaseThrottle


class LoginRateThrottle(AnonRateThrottle):
    """Logins per client address, whichever accounts they try: the per-account lockout
    (django-axes) alone lets one client spray a password across many accounts."""

    scope = "login"


def client_address(request) -> str:
    """The client's address for django-axes, by the same rule as the throttles."""
    return BaseThrottle().get_ident(request)
