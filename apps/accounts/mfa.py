"""Staff multi-factor authentication: a TOTP authenticator app, plus single-use recovery codes.

Every staff account (any role, superusers included) must enrol before the admin or the staff
pages let it in (apps/accounts/admin_site.py); learners never need it. django-otp keeps the
devices and marks a session verified (``request.user.is_verified()``).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.services import audit_record

from .models import User

RECOVERY_CODES = 10
AUTHENTICATOR = "Authenticator app"
RECOVERY = "Recovery codes"


def mfa_required(user: User) -> bool:
    return user.is_active and user.is_staff


def mfa_pending(user) -> bool:
    """A staff session that has not passed its second step yet."""
    return user.is_authenticated and mfa_required(user) and not user.is_verified()


def mfa_enrolled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def mfa_enrolment_start(*, user: User) -> TOTPDevice:
    """The authenticator to scan: a new secret, unconfirmed until a code from it is entered.
    Reused while unconfirmed, so reloading the page does not change the QR code."""
    if mfa_enrolled(user):
        raise ValidationError("Multi-factor authentication is already set up for this account.")
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": AUTHENTICATOR}
    )
    return device


def mfa_enrolment_confirm(*, request, user: User, token: str) -> list[str]:
    """Confirm the authenticator with a code from it; returns new recovery codes (shown once)
    and marks this session verified."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        raise ValidationError("Start the set-up again: there is no authenticator to confirm.")
    if not device.verify_token(_digits(token)):
        raise ValidationError("That code is not right. Enter the 6 digits your app shows now.")
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_replace(user)
        audit_record(actor=user, source="admin", action="mfa_enrol", target=user)
    otp_login(request, device)
    return codes


def mfa_verify(*, request, user: User, token: str) -> None:
    """Verify this session with a code from the authenticator or an unused recovery code
    (which is then spent). django-otp throttles each device after failures."""
    device = match_token(user, token.strip().replace(" ", ""))
    if device is None:
        raise ValidationError("That code is not right, or has been used already.")
    if isinstance(device, StaticDevice):
        left = StaticToken.objects.filter(device=device).count()
        audit_record(actor=user, source="admin", action="mfa_recovery_code_used", target=user,
                     details={"codes_left": left})  # fmt: skip
    otp_login(request, device)


def mfa_recovery_codes_regenerate(*, user: User) -> list[str]:
    """New recovery codes; the old ones stop working."""
    if not mfa_enrolled(user):
        raise ValidationError("Set up an authenticator app first.")
    with transaction.atomic():
        codes = _recovery_codes_replace(user)
        audit_record(actor=user, source="admin", action="mfa_recovery_codes", target=user)
    return codes


def mfa_reset(*, user: User, by: User) -> None:
    """Remove the user's authenticator and recovery codes (a lost phone): they enrol again at
    their next admin login."""
    if not by.is_superuser:
        raise ValidationError("Only a superuser can reset someone's multi-factor authentication.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit_record(actor=by, source="admin", action="mfa_reset", target=user)


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _digits(token: str) -> str:
    return "".join(ch for ch in token if ch.isdigit())
