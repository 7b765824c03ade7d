"""The browser setup itself: Debian's chromium reaches the live server and the admin login."""

import pytest

from apps.accounts.roles import MIGRATION_STAFF

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_log_into_the_admin_in_a_real_browser(
    live_server, browser_page, admin_login, staff_user, screenshot
):
    admin_login(browser_page, staff_user(MIGRATION_STAFF))
    assert "Content, learners and migration" in browser_page.title()
    assert screenshot(browser_page, "admin-index").stat().st_size > 10_000
