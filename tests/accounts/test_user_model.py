import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import RequestFactory

from apps.accounts.models import User
from apps.accounts.services import user_create, user_update_profile
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_user_has_uuid_primary_key_and_logs_in_by_email():
    user = user_create(email="Ada@Example.COM", password=PASSWORD)

    assert len(str(user.pk)) == 36
    assert user.email == "ada@example.com"
    assert User.USERNAME_FIELD == "email"


def test_email_lookup_is_case_insensitive():
    user = user_create(email="ada@example.com", password=PASSWORD)

    assert User.objects.get_by_natural_key("ADA@example.com") == user
    request = RequestFactory().post("/admin/login/")
    assert authenticate(request, email="Ada@Example.com", password=PASSWORD) == user


def test_case_variant_email_is_rejected_with_a_clear_message():
    user_create(email="ada@example.com", password=PASSWORD)

    with pytest.raises(ValidationError) as excinfo:
        user_create(email="ADA@EXAMPLE.COM", password=PASSWORD)

    assert "already exists" in str(excinfo.value)
    assert User.objects.count() == 1


def test_database_enforces_case_insensitive_uniqueness_even_bypassing_validation():
    User.objects.bulk_create([User(email="bob@example.com")])

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(email="BOB@example.com")])


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/Sao_Paulo", "UTC", "Asia/Kolkata"])
def test_iana_timezones_are_accepted(zone):
    user = user_create(
        email=f"{zone.replace('/', '-')}@example.com", password=PASSWORD, timezone=zone
    )

    assert user.timezone == zone


@pytest.mark.parametrize("zone", ["Mars/Olympus", "+02:00", "CEST", "", "europe/berlin"])
def test_non_iana_timezones_are_rejected(zone):
    with pytest.raises(ValidationError) as excinfo:
        user_create(email="tz@example.com", password=PASSWORD, timezone=zone)

    assert "timezone" in excinfo.value.message_dict
    assert not User.objects.filter(email="tz@example.com").exists()


def test_profile_update_rejects_unknown_timezone_and_keeps_the_old_one():
    user = UserFactory(timezone="Europe/London")

    with pytest.raises(ValidationError):
        user_update_profile(user=user, timezone="Nowhere/Land")

    user.refresh_from_db()
    assert user.timezone == "Europe/London"
