"""Several learners' attempts added to their rollups at once (the v1 pull's pages): the same
rows as adding each learner's alone, or rebuilding from the log, in a fixed number of
statements (issue 19)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.learning.services.rollups import learner_rollups_rebuild, rollups_add_many
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.learning.factories import AttemptFactory
from tests.learning.test_rollups import _rows

pytestmark = pytest.mark.django_db


def test_many_learners_in_one_call_equal_a_rebuild_in_three_statements():
    atoms = [make_atom("true_false") for _ in range(3)]
    zones = ["Europe/London", "Pacific/Auckland", "America/Los_Angeles", "UTC"]
    learners = [UserFactory(timezone=zone) for zone in zones]
    start = datetime(2026, 11, 1, 22, 30, tzinfo=UTC)
    batches = []
    for n, learner in enumerate(learners):
        attempts = [
            AttemptFactory(learner=learner, atom=atoms[k % 3], correct=bool((n + k) % 2),
                           time_taken_ms=1000 * k, answered_at=start + timedelta(hours=5 * k))
            for k in range(4 + n)
        ]  # fmt: skip
        batches.append((learner, attempts))

    with CaptureQueriesContext(connection) as queries:
        rollups_add_many(batches)
    added = {learner.pk: _rows(learner) for learner in learners}
    learner_rollups_rebuild(learner_ids=[learner.pk for learner in learners])

    assert added == {learner.pk: _rows(learner) for learner in learners}
    assert len(queries) == (3 if connection.vendor == "postgresql" else 2)
