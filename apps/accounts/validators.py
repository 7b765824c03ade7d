from functools import cache
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError


@cache
def iana_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_iana_timezone(value: str) -> None:
    """Accept only IANA zone names (``Europe/Berlin``), not offsets or abbreviations."""
    if value not in iana_timezones():
        raise ValidationError(
            "%(value)s is not an IANA time zone name (for example Europe/London).",
            code="invalid_timezone",
            params={"value": value},
        )
