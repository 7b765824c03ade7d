"""Staff MFA through the real admin forms: enrolment, a login with a code, a wrong code,
recovery codes, and a staff user without MFA kept out of the admin. Learners never see it."""

import re
import time

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.roles import MIGRATION_STAFF
from tests.accounts.factories import PASSWORD, UserFactory
from tests.legacy import LEGACY_SYNC_INSTALLED, legacy_schema_reset

pytestmark = pytest.mark.django_db(databases=["default", "legacy"])  # the staff pages read v1

LOGIN, MFA, INDEX = "/admin/login/", "/admin/mfa/", "/admin/"


def password_login(user, next_url: str = INDEX) -> Client:
    """A browser that has passed the password form only (not the patched test logins)."""
    browser = Client()
    form = {"username": user.email, "password": PASSWORD, "next": next_url}
    response = browser.post(f"{LOGIN}?next={next_url}", form)
    assert response.status_code == 302, response.content[:500]
    return browser


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the user's app shows; ``steps_ahead`` gives a later step's code, since a code
    once used is refused for the rest of its 30 s."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def enrol(browser: Client, user) -> list[str]:
    browser.get(MFA)
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = browser.post(MFA, {"code": code_for(device), "next": INDEX})
    assert response.status_code == 200, response.content[:500]
    return re.findall(r"<li><code>(\w+)</code></li>", response.content.decode())


def test_a_staff_user_without_mfa_is_kept_out_of_the_admin_until_enrolled():
    staff = UserFactory(is_staff=True, is_superuser=True)
    browser = password_login(staff)

    index = browser.get(INDEX)
    login_again = browser.get(index["Location"])

    assert index.status_code == 302 and index["Location"].startswith(LOGIN)
    assert login_again.status_code == 302 and login_again["Location"].startswith(MFA)
    enrolment = browser.get(login_again["Location"])
    assert enrolment.status_code == 200
    assert b"Scan this code" in enrolment.content and b"<svg" in enrolment.content
    assert browser.get("/admin/accounts/user/").status_code == 302
    if LEGACY_SYNC_INSTALLED:
        assert browser.get("/staff/migration/").status_code == 302


def test_enrolment_shows_recovery_codes_once_and_opens_the_admin():
    legacy_schema_reset()  # the staff pages count v1's rows
    staff = UserFactory(is_staff=True, roles=[MIGRATION_STAFF])
    browser = password_login(staff)

    codes = enrol(browser, staff)

    assert len(codes) == 10 and len(set(codes)) == 10
    assert browser.get(INDEX).status_code == 200
    if LEGACY_SYNC_INSTALLED:
        assert browser.get("/staff/migration/").status_code == 200
    assert TOTPDevice.objects.get(user=staff).confirmed


def test_the_admin_shows_who_is_enrolled():
    enrolled, pending = UserFactory(is_staff=True), UserFactory(is_staff=True)
    UserFactory(email="learner@example.com")
    enrol(password_login(enrolled), enrolled)
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = admin.get("/admin/accounts/user/").content.decode()

    def state(user_email: str) -> str:
        row = next(r for r in page.split("<tr") if user_email in r)
        return re.search(r'field-mfa">([^<]*)<', row).group(1)

    assert (state(enrolled.email), state(pending.email)) == ("enrolled", "not enrolled")
    assert state("learner@example.com") == "not needed"


def test_a_later_login_needs_a_code_and_a_wrong_one_is_refused():
    staff = UserFactory(is_staff=True, is_superuser=True)
    enrol(password_login(staff), staff)
    device = TOTPDevice.objects.get(user=staff)

    browser = password_login(staff)
    wrong = browser.post(MFA, {"code": "12345x", "next": INDEX})
    assert wrong.status_code == 200 and b"That code is not right" in wrong.content
    assert browser.get(INDEX).status_code == 302
    time.sleep(1.1)  # django-otp makes a device wait 1 s after a wrong code (doubling after each)

    right = browser.post(MFA, {"code": code_for(device, steps_ahead=1), "next": INDEX})
    assert right.status_code == 302 and right["Location"] == INDEX
    assert browser.get(INDEX).status_code == 200


def test_a_recovery_code_works_once():
    staff = UserFactory(is_staff=True, is_superuser=True)
    codes = enrol(password_login(staff), staff)

    first = password_login(staff)
    assert first.post(MFA, {"code": codes[0], "next": INDEX}).status_code == 302
    assert first.get(INDEX).status_code == 200

    second = password_login(staff)
    reused = second.post(MFA, {"code": codes[0], "next": INDEX})
    assert reused.status_code == 200 and b"used already" in reused.content
    assert second.get(INDEX).status_code == 302


def test_a_superuser_resets_a_lost_authenticator():
    staff = UserFactory(is_staff=True, roles=[MIGRATION_STAFF])
    enrol(password_login(staff), staff)
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))

    admin.post("/admin/accounts/user/", {"action": "mfa_reset_selected",
                                         "_selected_action": [str(staff.pk)]})  # fmt: skip

    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert b"Scan this code" in password_login(staff).get(MFA).content


def test_learners_are_unaffected(api_client):
    learner = UserFactory()

    credentials = {"email": learner.email, "password": PASSWORD}
    tokens = api_client.post("/api/v1/auth/token/", credentials, format="json")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")

    assert api_client.get("/api/v1/me/").status_code == 200
    assert not TOTPDevice.objects.exists()


def test_new_recovery_codes_replace_the_old_ones():
    staff = UserFactory(is_staff=True, is_superuser=True)
    browser = password_login(staff)
    old_codes = enrol(browser, staff)

    index = browser.get(INDEX).content.decode()
    page = browser.get("/admin/mfa/recovery-codes/").content.decode()
    regenerated = browser.post("/admin/mfa/recovery-codes/").content.decode()
    new_codes = re.findall(r"<li><code>(\w+)</code></li>", regenerated)

    assert 'href="/admin/mfa/recovery-codes/"' in index
    assert "You have 10 unused recovery codes" in page
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    later = password_login(staff)
    assert later.post(MFA, {"code": old_codes[0], "next": INDEX}).status_code == 200  # refused
    time.sleep(1.1)  # the wrong code made the devices wait a second
    assert later.post(MFA, {"code": new_codes[0], "next": INDEX}).status_code == 302
