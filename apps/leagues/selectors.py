"""League reads. Only members who opted in, are still in (not left this week) and are active
are ever read for anyone: the filter is here, at read time, so opting out takes effect on the
next request whatever else happens."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone as django_timezone

from apps.core.errors import DomainConflict
from apps.learning.models import XPEvent

from .models import League, LeagueMembership, Tier
from .standings import Entry, move_slots, rank
from .weeks import Week, week_of

ANONYMOUS_NAME = "Anonymous learner"  # a member without a display name: never their email


class LeaguesNotJoined(DomainConflict):
    code = "leagues_not_joined"

    def __str__(self) -> str:
        return (
            "You have not joined weekly leagues. Send PATCH /api/v1/me/ with "
            '{"leagues_opt_in": true} to join.'
        )


@dataclass(frozen=True)
class MemberStanding:
    learner_id: UUID  # for "you"; never sent to another learner
    display_name: str
    rank: int
    xp: int
    zone: str


@dataclass(frozen=True)
class CurrentLeague:
    status: str  # open, closing (the week is over, the beat closes it), placing
    tier: int
    week: Week
    promotion_slots: int
    demotion_slots: int
    standings: list[MemberStanding]


VISIBLE = Q(left_at__isnull=True, learner__leagues_opt_in=True, learner__is_active=True)


def visible_memberships(league: League) -> QuerySet[LeagueMembership]:
    return league.memberships.filter(VISIBLE)


def league_standings(*, league: League) -> list[MemberStanding]:
    """The league's visible members ranked by their XP of the league's week (live ledger
    rows only), in one query: each member's sum is an indexed subquery on (learner,
    occurred_at)."""
    week_xp = (
        XPEvent.objects.filter(
            learner=OuterRef("learner_id"),
            occurred_at__gte=league.starts_at,
            occurred_at__lt=league.ends_at,
            archived_in__isnull=True,
        )
        .order_by()
        .values("learner")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    rows = list(
        visible_memberships(league)
        .annotate(week_xp=Coalesce(Subquery(week_xp), 0))
        .values_list("learner_id", "learner__display_name", "joined_at", "week_xp")
    )
    names = {learner_id: name for learner_id, name, _, _ in rows}
    ranked = rank(
        [Entry(learner_id, xp, joined_at) for learner_id, _, joined_at, xp in rows],
        top_tier=league.tier == Tier.DIAMOND,
        bottom_tier=league.tier == Tier.BRONZE,
    )
    return [
        MemberStanding(s.key, names[s.key].strip() or ANONYMOUS_NAME, s.rank, s.xp, s.zone)
        for s in ranked
    ]


def league_current(*, learner, now: datetime | None = None) -> CurrentLeague:
    """The caller's league this week, ranked. Reads only: a learner who opted in but has no
    league yet (placement runs on opt-in and on the beat) gets status ``placing``. Raises
    LeaguesNotJoined unless the learner opted in."""
    if not learner.leagues_opt_in:
        raise LeaguesNotJoined()
    now = now or django_timezone.now()
    membership = (
        LeagueMembership.objects.filter(learner=learner, league__starts_at__lte=now)
        .select_related("league")
        .order_by("-week_start")
        .first()
    )
    if membership and membership.left_at is None and membership.league.closed_at is None:
        league = membership.league
        standings = league_standings(league=league)
        promote, demote = move_slots(
            len(standings),
            top_tier=league.tier == Tier.DIAMOND,
            bottom_tier=league.tier == Tier.BRONZE,
        )
        return CurrentLeague(
            status="open" if now < league.ends_at else "closing",
            tier=league.tier,
            week=Week(league.week_start, league.starts_at, league.ends_at),
            promotion_slots=promote,
            demotion_slots=demote,
            standings=standings,
        )
    if membership is None:
        tier = Tier.BRONZE
    elif membership.league.closed_at is not None:
        tier = membership.next_tier()
    else:  # left this week and came back: placed again into the same league shortly
        tier = membership.league.tier
    week = week_of(now, learner.timezone, settings.SCHEDULER_DAY_START_HOUR)
    return CurrentLeague("placing", tier, week, 0, 0, [])
