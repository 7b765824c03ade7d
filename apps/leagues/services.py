"""League writes: placing learners who opted in, taking out those who opted out, closing the
weeks. Closing and placing are idempotent: a league is closed under its row lock, once
(``closed_at``), and a learner holds one membership a week (a unique constraint), placed under
their user row's lock."""

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, Exists, OuterRef, Q, Sum
from django.utils import timezone as django_timezone

from apps.accounts.models import User
from apps.learning.models import XPEvent

from .models import League, LeagueMembership, Outcome, Tier
from .selectors import league_standings
from .standings import DEMOTION, PROMOTION, fit_into
from .weeks import Week, week_of

logger = logging.getLogger(__name__)

# How far back "similar XP" looks when grouping learners into leagues.
REFERENCE_WINDOW = timedelta(days=28)
PLACE_BATCH = 1000


def _eligible(learner_ids: Iterable[UUID], now: datetime):
    """Learners who opted in and have no league for the week ``now`` falls in, nor one whose
    week is over but not closed yet (its outcome decides their next tier)."""
    current = LeagueMembership.objects.filter(learner=OuterRef("pk")).filter(
        Q(league__ends_at__gt=now) | Q(league__closed_at__isnull=True)
    )
    return User.objects.filter(
        pk__in=list(learner_ids), leagues_opt_in=True, is_active=True
    ).exclude(Exists(current))


def _next_tiers(learner_ids: list[UUID]) -> dict[UUID, int]:
    """Each learner's tier for a new week: their last closed league's outcome, else Bronze."""
    tiers: dict[UUID, int] = {}
    closed = (
        LeagueMembership.objects.filter(learner_id__in=learner_ids, league__closed_at__isnull=False)
        .select_related("league")
        .order_by("learner_id", "-week_start")
    )
    for membership in closed:
        tiers.setdefault(membership.learner_id, membership.next_tier())
    return {learner_id: tiers.get(learner_id, Tier.BRONZE) for learner_id in learner_ids}


def _reference_xp(learner_ids: list[UUID], before: datetime) -> dict[UUID, int]:
    sums = (
        XPEvent.objects.filter(
            learner_id__in=learner_ids,
            occurred_at__gte=before - REFERENCE_WINDOW,
            occurred_at__lt=before,
            archived_in__isnull=True,
        )
        .order_by()
        .values("learner_id")
        .annotate(total=Sum("amount"))
    )
    return {row["learner_id"]: row["total"] for row in sums}


def _place_group(*, tier: int, week: Week, learner_ids: list[UUID], now: datetime) -> int:
    """Put learners of one tier and one week into the week's leagues of that tier: into the
    open ones with room first (nearest mean reference XP), then into new ones cut by XP.

    Locks the learners' user rows, then the group's leagues, each in pk order."""
    with transaction.atomic():
        locked = list(
            User.objects.select_for_update().filter(pk__in=learner_ids).order_by("pk")
            .values_list("pk", flat=True)
        )  # fmt: skip
        ids = list(_eligible(locked, now).values_list("pk", flat=True))
        if not ids:
            return 0
        reference = _reference_xp(ids, week.starts_at)
        leagues = list(
            League.objects.select_for_update()
            .filter(tier=tier, starts_at=week.starts_at, ends_at=week.ends_at)
            .order_by("number")
        )
        open_ids = [league.pk for league in leagues if league.closed_at is None]
        figures = {
            row["league"]: row
            for row in LeagueMembership.objects.filter(league__in=open_ids, left_at__isnull=True)
            .order_by()
            .values("league")
            .annotate(size=Count("pk"), mean=Avg("reference_xp"))
        }
        existing = [
            (pk, figures.get(pk, {}).get("size", 0), figures.get(pk, {}).get("mean") or 0.0)
            for pk in open_ids
        ]
        placed, new_groups = fit_into([(pk, reference.get(pk, 0)) for pk in ids], existing)
        number = max((league.number for league in leagues), default=0)
        for group in new_groups:
            number += 1
            league = League.objects.create(
                tier=tier,
                week_start=week.start,
                starts_at=week.starts_at,
                ends_at=week.ends_at,
                number=number,
            )
            placed |= dict.fromkeys(group, league.pk)
        LeagueMembership.objects.bulk_create(
            LeagueMembership(
                league_id=league_id,
                learner_id=learner_id,
                week_start=week.start,
                reference_xp=reference.get(learner_id, 0),
                joined_at=now,
            )
            for learner_id, league_id in placed.items()
        )
        return len(placed)


def leagues_place(*, learner_ids: Iterable[UUID], now: datetime | None = None) -> int:
    """Place each learner who opted in into a league for the week ``now`` falls in, in their
    own time zone (tier from their last closed week), unless they have one. One who left this
    week and opted in again goes back to the same league. Returns how many were placed."""
    now = now or django_timezone.now()
    learner_ids = list(learner_ids)
    LeagueMembership.objects.filter(
        learner_id__in=learner_ids,
        learner__leagues_opt_in=True,
        left_at__isnull=False,
        league__closed_at__isnull=True,
        league__ends_at__gt=now,
    ).update(left_at=None)
    learners = list(_eligible(learner_ids, now).values_list("pk", "timezone"))
    tiers = _next_tiers([pk for pk, _ in learners])
    groups: dict[tuple[int, Week], list[UUID]] = defaultdict(list)
    for pk, zone in learners:
        week = week_of(now, zone, settings.SCHEDULER_DAY_START_HOUR)
        groups[(tiers[pk], week)].append(pk)
    placed = 0
    for (tier, week), ids in sorted(groups.items(), key=lambda item: (item[0][1].starts_at,
                                                                      item[0][0])):  # fmt: skip
        try:
            placed += _place_group(tier=tier, week=week, learner_ids=ids, now=now)
        except IntegrityError:
            # another worker created the same league number a moment ago: once more, now
            # that its league exists (a learner already placed is skipped)
            placed += _place_group(tier=tier, week=week, learner_ids=ids, now=now)
    return placed


def league_learner_leave(*, learner: User, now: datetime | None = None) -> int:
    """Take a learner who opted out out of their open leagues: they are not ranked, shown or
    promoted any more (reads filter on the opt-in as well, so this is the bookkeeping)."""
    now = now or django_timezone.now()
    return LeagueMembership.objects.filter(
        learner=learner, left_at__isnull=True, league__closed_at__isnull=True
    ).update(left_at=now)


def league_close(*, league_id: UUID, now: datetime | None = None) -> bool:
    """Close one league whose week is over: rank its visible members by the week's XP,
    promote the top and demote the bottom (move_slots), and record every member's final
    standing (those who left: ``left``). Under the league's row lock; a league already closed
    (a redelivered task) or still running is left alone. Returns whether it closed it."""
    now = now or django_timezone.now()
    with transaction.atomic():
        league = League.objects.select_for_update().filter(pk=league_id).first()
        if league is None or league.closed_at is not None or league.ends_at > now:
            return False
        standings = {s.learner_id: s for s in league_standings(league=league)}
        memberships = list(league.memberships.all())
        outcome_of = {PROMOTION: Outcome.PROMOTED, DEMOTION: Outcome.DEMOTED}
        for membership in memberships:
            standing = standings.get(membership.learner_id)
            if standing is None:
                membership.final_rank, membership.final_xp = None, None
                membership.outcome = Outcome.LEFT
            else:
                membership.final_rank, membership.final_xp = standing.rank, standing.xp
                membership.outcome = outcome_of.get(standing.zone, Outcome.STAYED)
        LeagueMembership.objects.bulk_update(memberships, ["final_rank", "final_xp", "outcome"])
        league.closed_at = now
        league.save(update_fields=["closed_at"])
    return True


def leagues_week_close(*, now: datetime | None = None) -> dict[str, int]:
    """The beat's work: close every league whose week has ended in its members' time zone,
    then place every learner who opted in and has no league for their current week (the
    closed leagues' members into next week's, by their new tier). Safe to run twice."""
    now = now or django_timezone.now()
    due = League.objects.filter(closed_at__isnull=True, ends_at__lte=now).order_by("ends_at", "pk")
    closed = sum(league_close(league_id=pk, now=now) for pk in due.values_list("pk", flat=True))
    placed = 0
    opted_in = User.objects.filter(leagues_opt_in=True, is_active=True).order_by("pk")
    last = None
    while True:  # keyset batches over the learners who opted in
        batch = opted_in.filter(pk__gt=last) if last else opted_in
        ids = list(batch.values_list("pk", flat=True)[:PLACE_BATCH])
        if not ids:
            break
        placed += leagues_place(learner_ids=ids, now=now)
        last = ids[-1]
    return {"closed": closed, "placed": placed}
