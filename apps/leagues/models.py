"""Weekly leagues: each week, the learners who opted in are grouped, per tier and per week
boundary, into leagues of at most 30 with similar recent XP, and ranked by the week's XP.

Week XP is never stored while the week runs: it is summed from the XP ledger
(apps/learning XPEvent) at read time. Closing a league records the final standings on the
memberships (``final_rank``, ``final_xp``, ``outcome``), which set the next week's tier.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Tier(models.IntegerChoices):
    BRONZE = 1, "Bronze"
    SILVER = 2, "Silver"
    GOLD = 3, "Gold"
    SAPPHIRE = 4, "Sapphire"
    DIAMOND = 5, "Diamond"

    @property
    def slug(self) -> str:
        return self.name.lower()


class Outcome(models.TextChoices):
    PROMOTED = "promoted", "Promoted"
    STAYED = "stayed", "Stayed"
    DEMOTED = "demoted", "Demoted"
    LEFT = "left", "Left (opted out)"


class League(models.Model):
    """One tier's group of learners for one week. Its members share the week's boundaries
    (``starts_at``/``ends_at``, UTC): learners whose time zones start the week at the same
    instant, so the league closes once, at its members' own local week end."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices)
    week_start = models.DateField(help_text="The members' local Monday.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    number = models.PositiveSmallIntegerField(help_text="Its place among the tier's leagues.")
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-tier", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["tier", "starts_at", "ends_at", "number"], name="league_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="league_week_ordered"
            ),
        ]
        indexes = [
            # the beat's look-up of leagues whose week is over
            models.Index(
                fields=["ends_at"], condition=Q(closed_at__isnull=True), name="league_open_ends_at"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_tier_display()} #{self.number}, week of {self.week_start}"


class LeagueMembership(models.Model):
    """A learner in a league for one week; the final standing once the league is closed."""

    league = models.ForeignKey(League, on_delete=models.CASCADE, related_name="memberships")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="league_memberships"
    )
    week_start = models.DateField(help_text="The league's week (one league a learner a week).")
    reference_xp = models.IntegerField(
        default=0, help_text="XP of the four weeks before: how leagues group similar learners."
    )
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True, help_text="Opted out this week.")
    final_rank = models.PositiveSmallIntegerField(null=True, blank=True)
    final_xp = models.IntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)

    class Meta:
        ordering = ["league", "final_rank", "joined_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "week_start"], name="league_membership_one_per_week"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner_id} in {self.league_id}"

    def next_tier(self) -> int:
        """The tier this week's outcome leads to (the same until the league is closed)."""
        step = {Outcome.PROMOTED: 1, Outcome.DEMOTED: -1}.get(self.outcome, 0)
        return min(max(self.league.tier + step, Tier.BRONZE), Tier.DIAMOND)
