"""Secondary indexes are built after an initial load and are never left missing."""

import pytest
from django.db import connection

from apps.learning.models import Attempt
from apps.legacy_sync.backfill.indexes import indexes_deferred, secondary_indexes
from apps.scheduler.models import LearnerAtomState, LearnerConceptState

from .backfill_helpers import WITHOUT_FLASHCARDS, backfill, dirty_legacy_build

pytestmark = [
    pytest.mark.django_db(databases=["default", "legacy"], transaction=True),
    pytest.mark.postgresql,  # deferring indexes is PostgreSQL's bulk-load path
]


def present(model) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s",
                       [model._meta.db_table])  # fmt: skip
        return {row[0] for row in cursor.fetchall()}


def test_after_a_backfill_every_index_is_there_with_django_s_names(tmp_path):
    expected = {m: set(secondary_indexes(m)) for m in (Attempt, LearnerAtomState,
                                                        LearnerConceptState)}  # fmt: skip
    assert all(names <= present(m) for m, names in expected.items())  # the migrations' own

    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=WITHOUT_FLASHCARDS)

    assert all(names <= present(m) for m, names in expected.items())


def test_indexes_are_dropped_only_for_tables_v2_has_not_written_and_always_rebuilt(learner):
    names = set(secondary_indexes(Attempt))
    with indexes_deferred(Attempt):
        assert not names & present(Attempt)  # empty table: deferred
    assert names <= present(Attempt)

    # a killed run left them missing: the next stage run rebuilds them, whatever it loads
    with connection.cursor() as cursor:
        cursor.execute(f'DROP INDEX "{sorted(names)[0]}"')
    LearnerConceptState.objects.create(
        learner=learner, concept=_any_concept()
    )  # v2 has written here: not deferred
    with indexes_deferred(Attempt, LearnerConceptState):
        assert set(secondary_indexes(LearnerConceptState)) <= present(LearnerConceptState)
    assert names <= present(Attempt)


def _any_concept():
    from apps.curriculum.models import Concept, Course

    course = Course.objects.create(slug="idx", title="Idx")
    return Concept.objects.create(course=course, text="c")
