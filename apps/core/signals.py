"""Domain events one app announces and another reacts to, where a direct import would run
against the dependency direction (docs/architecture.md)."""

from django.dispatch import Signal

# A learner's time zone changed (sent after commit; kwargs: learner). Per-day figures kept in
# the old zone's days are recomputed by their owner (apps/learning: the statistics rollups).
learner_timezone_changed = Signal()

# A learner opted in to or out of weekly leagues (sent after commit; kwargs: learner,
# opted_in). apps/leagues places them into this week's league, or takes them out of it.
learner_leagues_opt_in_changed = Signal()
