"""Domain events one app announces and another reacts to, where a direct import would run
against the dependency direction (docs/architecture.md)."""

from django.db import transaction
from django.dispatch import Signal

# A learner's time zone changed (sent after commit; kwargs: learner). Per-day figures kept in
# the old zone's days are recomputed by their owner (apps/learning: the statistics rollups).
learner_timezone_changed = Signal()

# A learner opted in to or out of weekly leagues (sent after commit; kwargs: learner,
# opted_in). apps/leagues places them into this week's league, or takes them out of it.
learner_leagues_opt_in_changed = Signal()

# Figures badges are awarded on changed for a learner (sent after commit; kwargs: learner,
# kinds: the apps/achievements BadgeRule values that may have moved). Sent by learning
# (attempts, session completion) and assessment (mock tests); apps/achievements checks badges.
learner_figures_changed = Signal()


def learner_figures_changed_on_commit(*, learner, kinds) -> None:
    """Send ``learner_figures_changed`` once the current transaction commits (never for a
    rolled-back change)."""
    kinds = frozenset(kinds)
    if kinds:
        transaction.on_commit(
            lambda: learner_figures_changed.send(sender=None, learner=learner, kinds=kinds)
        )
