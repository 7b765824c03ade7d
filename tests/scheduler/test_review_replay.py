"""review_states_replay (the backfill's bulk replay) gives exactly what review_state_next gives
review by review, whatever the qualities, times and interval cap."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.scheduler.services import SchedulingPolicy, review_state_next, review_states_replay

reviews = st.lists(
    st.tuples(st.integers(0, 5), st.integers(0, 400 * 24 * 60)), min_size=1, max_size=12
)


@settings(max_examples=300, deadline=None)
@given(reviews=reviews, cap=st.sampled_from([3, 30, 365, 36500]))
def test_bulk_replay_matches_step_by_step_sm2(reviews, cap):
    policy = SchedulingPolicy(algorithm="sm2", maximum_interval_days=cap)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    timed, minute = [], 0
    for quality, gap in reviews:
        minute += gap
        timed.append((quality, start + timedelta(minutes=minute)))

    state, due = {}, None
    for quality, at in timed:
        state, due = review_state_next(state, quality, at, policy)

    assert review_states_replay(timed, policy) == (state, due)
