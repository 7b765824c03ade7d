"""After the legacy backfill (attempts written with COPY, bypassing the attempt service) every
learner's rollups equal the full computation from the attempt log."""

import pytest

from apps.learning.models import Attempt, LearnerDayRollup
from apps.learning.selectors import learner_statistics, learner_statistics_from_attempts
from apps.learning.services.rollups import learner_rollups_rebuild
from tests.learning.test_rollups import _rows
from tests.legacy import LEGACY_SYNC_INSTALLED

pytestmark = [
    pytest.mark.django_db(databases=["default", "legacy"], transaction=True),
    pytest.mark.skipif(not LEGACY_SYNC_INSTALLED, reason="legacy_sync is not installed"),
]


def test_the_backfill_leaves_every_learners_rollups_equal_to_the_attempt_log(tmp_path):
    from apps.accounts.models import User
    from tests.legacy_sync.backfill_helpers import backfill, dirty_legacy_build

    dirty_legacy_build(tmp_path)

    backfill(tmp_path)

    learners = User.objects.filter(pk__in=Attempt.objects.values("learner_id").distinct()).order_by(
        "pk"
    )
    assert learners.count() > 10
    assert LearnerDayRollup.objects.values("learner_id").distinct().count() == learners.count()
    for learner in learners:
        kept = _rows(learner)
        assert learner_statistics(learner) == learner_statistics_from_attempts(learner)
        learner_rollups_rebuild(learner_ids=[learner.pk])
        assert _rows(learner) == kept, learner.email
