"""Browser journeys: a real headless Chromium (Debian's package, never a browser Playwright
downloads) driven by Playwright against Django's live server on the test database.

Screenshots go to docs/screenshots/<journey>-<step>.png; the README's tour uses them.
"""

import os
import shutil
import time
from pathlib import Path

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.factories import PASSWORD, UserFactory

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "docs" / "screenshots"


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per module. Missing Debian chromium skips, unless
    CI_REQUIRE_INTEGRATION=1 makes that a failure (`make browser` installs it).

    Playwright's sync API keeps an event loop on the test thread, which trips Django's guard
    against ORM calls from async code; the tests' ORM calls are synchronous, so the guard is
    lifted while a browser is open."""
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        message = f"Debian's chromium is not at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI_REQUIRE_INTEGRATION") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            yield browser
            browser.close()
    finally:
        if saved is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


@pytest.fixture
def browser_page(chromium):
    """A fresh browser context (no cookies) per test; 1280×900 for readable screenshots."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot():
    """screenshot(page, "journey-step") saves docs/screenshots/journey-step.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def admin_login(live_server):
    """admin_login(page, user) logs ``user`` into the admin through its login form and its
    second step: a code from the authenticator app the user enrolled (made here)."""

    def login(page, user) -> None:
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, confirmed=True, defaults={"name": "journey authenticator", "tolerance": 5}
        )
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", user.email)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/mfa/**")
        page.fill("#id_code", fresh_code(device))
        page.click("#mfa-form input[type=submit]")
        page.wait_for_url(lambda url: "/admin/" in url and "/admin/mfa/" not in url)

    return login


def fresh_code(device) -> str:
    """A code the device has not accepted yet: a code is good once per 30 s step, and a user
    may log in several times within one (later steps are within this device's tolerance)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if totp.t() <= device.last_t:
        totp.time += device.step * (device.last_t - totp.t() + 1)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def staff_user():
    """staff_user(role) is a staff user in that role group."""

    def make(role: str, **fields):
        return UserFactory(is_staff=True, roles=[role], **fields)

    return make


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    """The live server needs committed data, so these tests are transactional, and a
    transactional test flushes the role groups the data migrations made: make them again."""
    from django.apps import apps

    from apps.accounts.roles import role_permissions_sync

    role_permissions_sync(apps)
