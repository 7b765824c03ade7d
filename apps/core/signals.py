"""Domain events one app announces and another reacts to, where a direct import would run
against the dependency direction (docs/architecture.md)."""

from django.dispatch import Signal

# A learner's time zone changed (sent after commit; kwargs: learner). Per-day figures kept in
# the old zone's days are recomputed by their owner (apps/learning: the statistics rollups).
learner_timezone_changed = Signal()
