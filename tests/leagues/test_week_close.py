"""Closing league weeks (the beat's leagues.week_close): per time zone, promotion and
demotion within the tier bounds, final standings, next week's placement, idempotence."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings

from apps.accounts.services import user_update_profile
from apps.leagues.models import League, LeagueMembership, Outcome, Tier
from apps.leagues.services import league_close, leagues_place, leagues_week_close
from apps.leagues.tasks import leagues_week_close_task

from .helpers import earn, learner, opt_in

pytestmark = pytest.mark.django_db

MIDWEEK = datetime(2026, 12, 2, 12, tzinfo=UTC)  # Wednesday 2 December 2026
AUCKLAND_END = datetime(2026, 12, 6, 15, tzinfo=UTC)  # Monday 7 Dec 04:00 NZDT
LOS_ANGELES_END = datetime(2026, 12, 7, 12, tzinfo=UTC)  # Monday 7 Dec 04:00 PST


def joined(users, capture, now=MIDWEEK):
    """Opt in (the after-commit placement left out: a test's transaction never commits),
    then place at ``now``."""
    for user in users:
        user_update_profile(user=user, leagues_opt_in=True)
    leagues_place(learner_ids=[u.pk for u in users], now=now)
    return users


def membership(user, week_start: date) -> LeagueMembership:
    return LeagueMembership.objects.select_related("league").get(
        learner=user, week_start=week_start
    )


def test_each_time_zone_closes_at_its_own_local_week_end(django_capture_on_commit_callbacks):
    # given a learner in Auckland and one in Los Angeles, placed mid-week
    kiri, lou = joined(
        [learner("Kiri", "Pacific/Auckland"), learner("Lou", "America/Los_Angeles")],
        django_capture_on_commit_callbacks,
    )
    kiri_league = membership(kiri, date(2026, 11, 30)).league
    lou_league = membership(lou, date(2026, 11, 30)).league
    assert kiri_league != lou_league  # different week boundaries: different leagues
    earn(kiri, 40, AUCKLAND_END - timedelta(hours=1))
    earn(lou, 25, AUCKLAND_END + timedelta(hours=1))  # Sunday for Lou: still her week

    # when the beat runs just after Auckland's week ended
    result = leagues_week_close(now=AUCKLAND_END + timedelta(minutes=1))

    # then only Auckland's league is closed, and Kiri starts her next week
    assert result == {"closed": 1, "placed": 1}
    kiri_league.refresh_from_db(), lou_league.refresh_from_db()
    assert kiri_league.closed_at is not None and lou_league.closed_at is None
    assert membership(kiri, date(2026, 11, 30)).final_xp == 40
    assert membership(kiri, date(2026, 12, 7)).league.starts_at == AUCKLAND_END

    # and a minute before Los Angeles' week ends, nothing more closes
    assert leagues_week_close(now=LOS_ANGELES_END - timedelta(minutes=1))["closed"] == 0

    # when Los Angeles' week ends, hers closes with the Sunday XP counted
    assert leagues_week_close(now=LOS_ANGELES_END)["closed"] == 1
    final = membership(lou, date(2026, 11, 30))
    assert (final.final_rank, final.final_xp, final.outcome) == (1, 25, Outcome.PROMOTED)
    assert membership(lou, date(2026, 12, 7)).league.tier == Tier.SILVER


def ten_in_one_league(capture, tier: int):
    users = joined([learner(f"L{n}") for n in range(10)], capture)
    league = membership(users[0], date(2026, 11, 30)).league
    League.objects.filter(pk=league.pk).update(tier=tier)
    for n, user in enumerate(users):
        earn(user, 10 * (n + 1), MIDWEEK + timedelta(minutes=n))  # L9 has most
    return users, league


def outcomes(users):
    by_user = {
        m.learner_id: m for m in LeagueMembership.objects.filter(week_start=date(2026, 11, 30))
    }
    return [by_user[u.pk].outcome for u in users]


def test_top_promoted_bottom_demoted_with_final_standings(django_capture_on_commit_callbacks):
    users, league = ten_in_one_league(django_capture_on_commit_callbacks, Tier.GOLD)

    assert league_close(league_id=league.pk, now=league.ends_at)

    # 10 members: 2 up, 2 down; ranks by XP
    assert outcomes(users) == [Outcome.DEMOTED] * 2 + [Outcome.STAYED] * 6 + [Outcome.PROMOTED] * 2
    top = LeagueMembership.objects.get(learner=users[9], league=league)
    assert (top.final_rank, top.final_xp) == (1, 100)
    # next week: the tiers they moved to
    leagues_week_close(now=league.ends_at)
    next_tiers = [membership(u, date(2026, 12, 7)).league.tier for u in users]
    assert next_tiers == [Tier.SILVER] * 2 + [Tier.GOLD] * 6 + [Tier.SAPPHIRE] * 2


@pytest.mark.parametrize(
    ("tier", "expected"),
    [
        (Tier.BRONZE, [Outcome.STAYED] * 8 + [Outcome.PROMOTED] * 2),  # nothing below Bronze
        (Tier.DIAMOND, [Outcome.DEMOTED] * 2 + [Outcome.STAYED] * 8),  # nothing above Diamond
    ],
)
def test_nobody_leaves_the_tier_range(django_capture_on_commit_callbacks, tier, expected):
    users, league = ten_in_one_league(django_capture_on_commit_callbacks, tier)

    leagues_week_close(now=league.ends_at)

    assert outcomes(users) == expected
    assert {membership(u, date(2026, 12, 7)).league.tier for u in users} <= set(Tier.values)


def test_a_learner_who_opted_out_is_not_ranked(django_capture_on_commit_callbacks):
    users, league = ten_in_one_league(django_capture_on_commit_callbacks, Tier.GOLD)
    opt_in(users[9], django_capture_on_commit_callbacks, opted_in=False)  # the top one leaves

    leagues_week_close(now=league.ends_at)

    left = LeagueMembership.objects.get(learner=users[9], league=league)
    assert (left.outcome, left.final_rank, left.final_xp) == (Outcome.LEFT, None, None)
    assert LeagueMembership.objects.get(learner=users[8], league=league).final_rank == 1
    # nor placed into next week
    assert not LeagueMembership.objects.filter(learner=users[9], week_start=date(2026, 12, 7))


def test_closing_twice_changes_nothing(django_capture_on_commit_callbacks):
    users, league = ten_in_one_league(django_capture_on_commit_callbacks, Tier.GOLD)
    first = leagues_week_close(now=league.ends_at)
    snapshot = list(LeagueMembership.objects.order_by("pk").values_list())
    leagues_count = League.objects.count()

    # a redelivered task, later XP (an offline batch synced late) and all
    earn(users[0], 999, league.ends_at - timedelta(minutes=1))
    second = leagues_week_close(now=league.ends_at + timedelta(minutes=15))
    assert not league_close(league_id=league.pk, now=league.ends_at + timedelta(hours=1))

    assert first == {"closed": 1, "placed": 10} and second == {"closed": 0, "placed": 0}
    assert list(LeagueMembership.objects.order_by("pk").values_list()) == snapshot
    assert League.objects.count() == leagues_count


def test_a_league_still_running_is_not_closed(django_capture_on_commit_callbacks):
    _, league = ten_in_one_league(django_capture_on_commit_callbacks, Tier.GOLD)

    assert not league_close(league_id=league.pk, now=league.ends_at - timedelta(seconds=1))
    assert leagues_week_close(now=league.ends_at - timedelta(seconds=1)) == {
        "closed": 0,
        "placed": 0,
    }


def test_the_beat_task_runs_the_close(django_capture_on_commit_callbacks):
    entry = settings.CELERY_BEAT_SCHEDULE["leagues-week-close"]
    assert entry["task"] == leagues_week_close_task.name == "leagues.week_close"
    (ada,) = joined(
        [learner("Ada")],
        django_capture_on_commit_callbacks,
        now=datetime.now(UTC) - timedelta(days=8),
    )
    leagues_week_close_task.delay()
    memberships = LeagueMembership.objects.filter(learner=ada).order_by("week_start")
    assert [m.league.closed_at is not None for m in memberships] == [True, False]


def test_large_cohorts_are_split_into_leagues_of_thirty_by_xp(django_capture_on_commit_callbacks):
    users = [learner(f"L{n}") for n in range(65)]
    for n, user in enumerate(users):
        earn(user, n, MIDWEEK - timedelta(days=3))  # XP of the weeks before: the grouping key
    joined(users, django_capture_on_commit_callbacks)

    leagues = League.objects.filter(week_start=date(2026, 11, 30)).order_by("number")
    sizes = [league.memberships.count() for league in leagues]
    assert sizes == [22, 22, 21]
    top = {m.learner_id for m in leagues[0].memberships.all()}
    assert top == {u.pk for u in users[-22:]}  # the most active together
