"""Racing beat workers and opt-ins: one close per league, one league a week per learner.

PostgreSQL only: these need real concurrent transactions (SQLite serialises its writers)."""

import contextlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from apps.leagues import services
from apps.leagues.models import League, LeagueMembership, Outcome
from apps.leagues.services import league_close, leagues_place

from .helpers import earn, learner

pytestmark = pytest.mark.django_db(transaction=True)

MIDWEEK = datetime(2026, 12, 2, 12, tzinfo=UTC)
THREAD_TIMEOUT_S = 30
HOLD_S = 3  # how long a placement waits for the other at the hold


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL (set DATABASE_URL)")


def at_once(*calls):
    """Run each call in its own thread and connection, released together."""
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            start.wait(timeout=THREAD_TIMEOUT_S)
            results[index] = call()
        except Exception as exc:  # reported by the caller's assertions
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT_S)
    return results


def opted_in(*names):
    """Opted in, not placed: the flag alone (the service's after-commit placement would run
    here, where transactions commit)."""
    users = [learner(name, "America/Los_Angeles", leagues_opt_in=True) for name in names]
    return users


def test_two_workers_closing_one_league_close_it_once():
    users = opted_in("Ada", "Bea")
    leagues_place(learner_ids=[u.pk for u in users], now=MIDWEEK)
    league = League.objects.get()
    earn(users[0], 10, MIDWEEK)
    end = league.ends_at

    results = at_once(*[lambda: league_close(league_id=league.pk, now=end)] * 2)

    assert sorted(results) == [False, True], results
    outcomes = sorted(LeagueMembership.objects.values_list("outcome", "final_rank"))
    assert outcomes == [(Outcome.PROMOTED, 1), (Outcome.STAYED, 2)]


def test_racing_placements_put_each_learner_in_one_league_once():
    users = opted_in("Ada", "Bea", "Cy")
    ids = [u.pk for u in users]

    results = at_once(
        lambda: leagues_place(learner_ids=ids, now=MIDWEEK),
        lambda: leagues_place(learner_ids=ids, now=MIDWEEK),
        lambda: leagues_place(learner_ids=[ids[0]], now=MIDWEEK + timedelta(seconds=1)),
    )

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 3
    assert LeagueMembership.objects.count() == 3 and League.objects.count() == 1


def test_two_learners_opting_in_at_once_share_the_new_league(monkeypatch):
    # given both placements held after they found no league of their week, so both create one
    ada, bea = opted_in("Ada", "Bea")
    hold = threading.Barrier(2)
    original = services.fit_into

    def held(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            hold.wait(timeout=HOLD_S)
        return original(*args, **kwargs)

    monkeypatch.setattr(services, "fit_into", held)

    results = at_once(
        lambda: leagues_place(learner_ids=[ada.pk], now=MIDWEEK),
        lambda: leagues_place(learner_ids=[bea.pk], now=MIDWEEK),
    )

    assert results == [1, 1], results
    assert League.objects.count() == 1 and LeagueMembership.objects.count() == 2
