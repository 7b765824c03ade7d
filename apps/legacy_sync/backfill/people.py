"""v1 users become v2 learners."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils import timezone

from apps.accounts.models import User, normalize_email_address
from apps.core.models import Origin

from .entity import BatchOutcome, Entity
from .keys import as_utc, jsonable, legacy_uuid
from .writer import rows_insert


def valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class Users(Entity):
    """Rules: emails are compared case-insensitively and the lowest v1 id keeps an address;
    a later account with the same address is quarantined (``duplicate_email``) for staff to
    give it another address. A NULL timezone means UTC; a name that is not IANA is
    quarantined (``invalid_timezone``). Migrated learners get an unusable password and log in
    after a password reset."""

    name = "users"
    parallel = False  # "the lowest id keeps an address" needs one ordered pass

    def migrated_count(self) -> int:
        return User.objects.filter(origin=Origin.LEGACY).count()

    def migrate(self, rows: list[dict]) -> BatchOutcome:
        outcome = BatchOutcome()
        emails = {normalize_email_address(r.get("email")) for r in rows}
        owners = dict(
            User.objects.annotate(address=Lower("email"))
            .filter(address__in=emails)
            .values_list("address", "legacy_key")
        )
        unusable = make_password(None)
        new = []
        for row in rows:
            key = str(row["id"])
            email = normalize_email_address(row.get("email"))
            problem = self._problem(row, email, key, owners)
            if problem == "migrated":
                outcome.migrated_keys.append(key)
                continue
            if problem:
                outcome.reject(key, problem, jsonable(row))
                continue
            owners[email] = key
            new.append(
                {
                    "id": legacy_uuid("users", key),
                    "email": email,
                    "display_name": (row.get("display_name") or "")[:150],
                    "timezone": row.get("timezone") or "UTC",
                    "password": unusable,
                    "date_joined": as_utc(row.get("created_at")) or timezone.now(),
                    "origin": Origin.LEGACY,
                    "legacy_key": key,
                }
            )
            outcome.migrated_keys.append(key)
        rows_insert(User, new)
        return outcome

    @staticmethod
    def _problem(row, email, key, owners) -> tuple[str, str] | str | None:
        if email in owners:
            owner = owners[email]
            if owner == key:
                return "migrated"
            who = f"v1 user {owner}" if owner else "a v2 account"
            return "duplicate_email", f"{email} already belongs to {who}."
        try:
            validate_email(email)
        except ValidationError:
            return "invalid_email", f"{row.get('email')!r} is not an email address."
        name = row.get("timezone")
        if name and not valid_timezone(name):
            return "invalid_timezone", f"{name!r} is not an IANA time zone name."
        try:
            as_utc(row.get("created_at"))
        except ValueError as exc:
            return "invalid_timestamp", str(exc)
        return None
