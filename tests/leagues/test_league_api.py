"""GET /api/v1/leagues/current/ and joining through PATCH /api/v1/me/: privacy first."""

import json
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from apps.core.models import AuditEvent
from apps.leagues.models import LeagueMembership
from apps.leagues.services import leagues_place, leagues_week_close
from apps.learning.models import ProgressSnapshot, XPEvent

from .helpers import earn, learner, opt_in

pytestmark = pytest.mark.django_db

URL = "/api/v1/leagues/current/"


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def league_of(user):
    return LeagueMembership.objects.select_related("league").get(learner=user).league


def test_a_learner_who_did_not_opt_in_is_told_so(django_capture_on_commit_callbacks):
    # given a learner who never opted in
    ada = learner("Ada")

    # when they ask for their league
    response = client_of(ada).get(URL)

    # then a 409 says how to join, and nothing was written
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "leagues_not_joined"
    assert "leagues_opt_in" in response.json()["error"]["message"]
    assert not LeagueMembership.objects.exists()


def test_opting_in_through_me_places_the_learner_and_is_audited(
    django_capture_on_commit_callbacks,
):
    ada = learner("Ada")
    client = client_of(ada)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch("/api/v1/me/", {"leagues_opt_in": True}, format="json")

    assert response.status_code == 200 and response.json()["leagues_opt_in"] is True
    body = client.get(URL).json()
    assert body["status"] == "open" and body["tier"] == "bronze"
    assert [(m["display_name"], m["you"], m["rank"]) for m in body["members"]] == [("Ada", True, 1)]
    event = AuditEvent.objects.get(action="profile_edit")
    assert event.details == {"leagues_opt_in": [False, True]}


def test_a_learner_who_did_not_opt_in_appears_nowhere(django_capture_on_commit_callbacks):
    # given two learners who opted in and one, with more XP, who did not
    ada = opt_in(learner("Ada"), django_capture_on_commit_callbacks)
    bea = opt_in(learner("Bea"), django_capture_on_commit_callbacks)
    cy = learner("Cy Private", email="cy.private@example.com")
    week = league_of(ada)
    for user, amount in ((ada, 30), (bea, 20), (cy, 500)):
        earn(user, amount, week.starts_at + timedelta(minutes=5))

    # when the others read their league
    bodies = [client_of(user).get(URL) for user in (ada, bea)]

    # then Cy is in neither: not by name, email or id, not counted in the ranks
    for response in bodies:
        assert response.status_code == 200
        text = response.content.decode()
        assert "Cy Private" not in text and "cy.private" not in text and str(cy.pk) not in text
        assert [m["display_name"] for m in response.json()["members"]] == ["Ada", "Bea"]
    # nor in any league, nor in the standings once the week is closed
    assert not LeagueMembership.objects.filter(learner=cy).exists()
    assert leagues_place(learner_ids=[cy.pk]) == 0  # asked to place her: nobody is
    leagues_week_close(now=week.ends_at + timedelta(minutes=1))
    assert not LeagueMembership.objects.filter(learner=cy).exists()
    assert client_of(cy).get(URL).status_code == 409


def test_members_are_shown_by_display_name_only(django_capture_on_commit_callbacks):
    ada = opt_in(learner("Ada"), django_capture_on_commit_callbacks)
    nameless = opt_in(
        learner("", email="secret.person@example.com"), django_capture_on_commit_callbacks
    )

    body = client_of(ada).get(URL).json()

    assert [set(m) for m in body["members"]] == [{"rank", "display_name", "xp", "zone", "you"}] * 2
    text = json.dumps(body)
    assert "secret.person" not in text and str(nameless.pk) not in text and str(ada.pk) not in text
    assert {m["display_name"] for m in body["members"]} == {"Ada", "Anonymous learner"}


def test_an_opted_out_learner_disappears_at_once(django_capture_on_commit_callbacks):
    # given Ada and Bea in one league
    ada = opt_in(learner("Ada"), django_capture_on_commit_callbacks)
    bea = opt_in(learner("Bea"), django_capture_on_commit_callbacks)
    assert len(client_of(ada).get(URL).json()["members"]) == 2

    # when Bea opts out, even before anything runs after the commit
    with django_capture_on_commit_callbacks(execute=False):
        response = client_of(bea).patch("/api/v1/me/", {"leagues_opt_in": False}, format="json")
    assert response.status_code == 200

    # then Ada's league no longer shows her, and Bea is told she is out
    assert [m["display_name"] for m in client_of(ada).get(URL).json()["members"]] == ["Ada"]
    assert client_of(bea).get(URL).json()["error"]["code"] == "leagues_not_joined"


def test_opting_out_and_in_again_returns_to_the_same_league(django_capture_on_commit_callbacks):
    ada = opt_in(learner("Ada"), django_capture_on_commit_callbacks)
    bea = opt_in(learner("Bea"), django_capture_on_commit_callbacks)
    opt_in(bea, django_capture_on_commit_callbacks, opted_in=False)
    assert LeagueMembership.objects.get(learner=bea).left_at is not None

    opt_in(bea, django_capture_on_commit_callbacks)

    assert LeagueMembership.objects.get(learner=bea).left_at is None
    assert league_of(bea) == league_of(ada)
    assert len(client_of(ada).get(URL).json()["members"]) == 2


def test_ranked_by_xp_of_the_learners_own_local_week(django_capture_on_commit_callbacks):
    # given two learners in Auckland; XP just before and just after their local week start
    ada = opt_in(learner("Ada", "Pacific/Auckland"), django_capture_on_commit_callbacks)
    bea = opt_in(learner("Bea", "Pacific/Auckland"), django_capture_on_commit_callbacks)
    league = league_of(ada)
    start = league.starts_at  # Monday at the day start hour, Auckland time
    earn(ada, 100, start - timedelta(seconds=1))  # the week before: not counted
    earn(ada, 10, start)
    earn(bea, 15, start + timedelta(seconds=1))
    archived = earn(bea, 1000, start + timedelta(minutes=1))
    snapshot = ProgressSnapshot.objects.create(learner=bea)
    XPEvent.objects.filter(pk=archived.pk).update(archived_in=snapshot)  # a reset's rows

    body = client_of(ada).get(URL).json()

    assert [(m["display_name"], m["xp"]) for m in body["members"]] == [("Bea", 15), ("Ada", 10)]
    assert (body["rank"], body["xp"]) == (2, 10)
    assert body["starts_at"].startswith(start.strftime("%Y-%m-%dT%H:%M"))


def test_reading_the_league_costs_two_queries(
    django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    users = [opt_in(learner(f"L{n}"), django_capture_on_commit_callbacks) for n in range(12)]
    for n, user in enumerate(users):
        earn(user, n, league_of(user).starts_at + timedelta(minutes=n))
    client = client_of(users[0])

    with django_assert_max_num_queries(2):  # the caller's membership; members with week XP
        response = client.get(URL)

    assert response.status_code == 200 and len(response.json()["members"]) == 12


def test_an_opted_in_learner_without_a_league_yet_is_placing(django_capture_on_commit_callbacks):
    # given the opt-in committed but its placement not run (it failed; the beat retries)
    ada = learner("Ada")
    with django_capture_on_commit_callbacks(execute=False):
        client_of(ada).patch("/api/v1/me/", {"leagues_opt_in": True}, format="json")

    body = client_of(ada).get(URL).json()

    assert (body["status"], body["tier"], body["members"], body["rank"]) == (
        "placing",
        "bronze",
        [],
        None,
    )
    assert not LeagueMembership.objects.exists()  # the GET placed nobody
    assert leagues_place(learner_ids=[ada.pk]) == 1
    assert client_of(ada).get(URL).json()["status"] == "open"
