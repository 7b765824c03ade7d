"""A v1 review card backfilled into a course scheduled with FSRS becomes an FSRS memory state
derived from its ease and interval (fsrs-rs's memory_state_from_sm2), keeping its due date."""

import pytest

from apps.core.models import Origin
from apps.curriculum.models import Course
from apps.scheduler.algorithms.fsrs_adapter import memory_state_from_sm2
from apps.scheduler.models import LearnerAtomState

# legacy_sync: skipped once the migration app is switched off
pytestmark = [
    pytest.mark.django_db(databases=["default", "legacy"], transaction=True),
    pytest.mark.legacy_sync,
]


def test_review_cards_of_an_fsrs_course_become_fsrs_memory_states(tmp_path):
    from apps.legacy_sync.backfill.keys import as_utc
    from apps.legacy_sync.v1.models import LegacyReviewCard
    from tests.legacy_sync.backfill_helpers import backfill, dirty_legacy_build

    # given migrated learners and bits, in courses that switched to FSRS before the cards came
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=["users", "chapters", "bits"])
    assert Course.objects.filter(origin=Origin.LEGACY).update(default_algorithm="fsrs")

    # when v1's review cards are backfilled
    backfill(tmp_path, names=["review_cards"])

    # then each card past learning is an FSRS review card with about its SM-2 interval as
    # stability and a difficulty from its ease; its v1 due date stays
    cards = {str(c.pk): c for c in LegacyReviewCard.objects.all()}
    states = LearnerAtomState.objects.filter(origin=Origin.LEGACY)
    converted = 0
    for state in states:
        card = cards[state.legacy_key]
        if card.interval_days == 0:
            assert state.state["algorithm"] == "sm2"  # still learning: FSRS starts it afresh
            continue
        stability, difficulty = memory_state_from_sm2(card.ease, card.interval_days)
        assert state.state["algorithm"] == "fsrs"
        assert state.state["stability"] == pytest.approx(stability)
        assert state.state["stability"] == pytest.approx(card.interval_days, rel=0.05)
        assert state.state["difficulty"] == pytest.approx(difficulty)
        assert state.due_at == as_utc(card.due_at) and state.reviews == (card.repetitions or 0)
        converted += 1
    assert converted >= 50
