"""Staff read leagues and standings in the admin, read-only; the opt-in's after-commit
placement never fails the learner's request."""

import pytest
from django.test import Client

from apps.leagues import receivers
from apps.leagues.models import LeagueMembership
from tests.accounts.factories import UserFactory

from .helpers import learner, opt_in

pytestmark = pytest.mark.django_db


def test_a_superuser_reads_a_league_and_its_standings(django_capture_on_commit_callbacks):
    ada = opt_in(learner("Ada"), django_capture_on_commit_callbacks)
    league = LeagueMembership.objects.get(learner=ada).league
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get(f"/admin/leagues/league/{league.pk}/change/")
    listing = client.get("/admin/leagues/leaguemembership/", {"q": ada.email})

    assert page.status_code == 200 and ada.email in page.content.decode()
    assert listing.status_code == 200 and ada.email in listing.content.decode()
    assert client.get("/admin/leagues/league/add/").status_code == 403  # read-only


def test_a_failed_placement_leaves_the_opt_in_and_the_request_alone(
    django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(receivers, "leagues_place", broken)
    ada = learner("Ada")
    client = Client()
    client.force_login(ada)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            "/api/v1/me/", {"leagues_opt_in": True}, content_type="application/json"
        )

    assert response.status_code == 200 and response.json()["leagues_opt_in"] is True
    assert "the beat retries" in caplog.text
    assert not LeagueMembership.objects.exists()  # the beat places her
