"""rows_insert (apps/legacy_sync/backfill/writer.py): COPY with row triggers off still keeps
every foreign key, checked set-wise, and skips rows already there."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction

from apps.accounts.models import User
from apps.core.models import Origin
from apps.curriculum.models import Concept, Course
from apps.legacy_sync.backfill.writer import _may_skip_triggers, rows_insert
from apps.scheduler.models import LearnerConceptState

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def learner_and_concept():
    learner = User.objects.create_user(email="writer@example.com", password="x" * 12)
    course = Course.objects.create(slug="writer", title="Writer")
    concept = Concept.objects.create(course=course, text="C")
    return learner, concept


def state_row(learner_id, concept_id) -> dict:
    return {"learner_id": learner_id, "concept_id": concept_id, "origin": Origin.LEGACY}


@pytest.mark.postgresql  # COPY and the set-wise key check
def test_ci_database_takes_the_trigger_free_path():
    """CI connects as a superuser, so the tests below exercise the set-wise check."""
    assert connection.vendor == "postgresql"
    assert _may_skip_triggers(LearnerConceptState._meta.db_table)


@pytest.mark.postgresql  # COPY and the set-wise key check
def test_missing_parent_is_an_integrity_error_and_nothing_is_written(learner_and_concept):
    learner, concept = learner_and_concept
    ghost = uuid.uuid4()
    rows = [state_row(learner.pk, concept.pk), state_row(ghost, concept.pk)]
    with (
        pytest.raises(IntegrityError, match=f"missing accounts.User .*{ghost}"),
        transaction.atomic(),
    ):
        rows_insert(LearnerConceptState, rows)
    assert not LearnerConceptState.objects.exists()
    # Triggers are back on after the insert: an ORM write with a bad parent still fails.
    with pytest.raises(IntegrityError), transaction.atomic():
        LearnerConceptState.objects.create(learner_id=uuid.uuid4(), concept=concept)


@pytest.mark.postgresql  # COPY and the set-wise key check
def test_rows_with_existing_parents_go_in_once(learner_and_concept):
    learner, concept = learner_and_concept
    rows = [state_row(str(learner.pk), str(concept.pk))]  # ids as text, as the history reads
    with transaction.atomic():
        rows_insert(LearnerConceptState, rows)
    with transaction.atomic():
        rows_insert(LearnerConceptState, rows)  # the conflict path: skipped, not doubled
    assert LearnerConceptState.objects.filter(learner=learner, concept=concept).count() == 1


@pytest.mark.postgresql  # COPY and the set-wise key check
def test_parents_are_locked_until_commit(learner_and_concept):
    """Like PostgreSQL's own check: a parent cannot be deleted under an uncommitted child."""
    import psycopg

    learner, concept = learner_and_concept
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"],
        dbname=settings["NAME"], autocommit=True,
    )  # fmt: skip
    try:
        with transaction.atomic():
            rows_insert(LearnerConceptState, [state_row(learner.pk, concept.pk)])
            other.execute("SET lock_timeout = '200ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute("DELETE FROM curriculum_concept WHERE id = %s", [concept.pk])
    finally:
        other.close()


def test_json_timestamps_and_defaults_survive_copy_and_the_conflict_path(learner_and_concept):
    """Binary COPY encodes each column by its PostgreSQL type; JSON defaults are encoded once.
    The conflict path (a batch meeting a row already there) must store the same values."""
    from datetime import UTC, datetime

    from apps.learning.models import Attempt
    from tests.content.factories import make_atom

    learner, concept = learner_and_concept
    atom = make_atom("flashcard", concept=concept)
    answered = datetime(2025, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)

    def attempt_row(number: int) -> dict:
        attempt_id = uuid.UUID(int=number)
        return {
            "id": attempt_id, "learner_id": str(learner.pk), "atom_id": atom.pk,
            "revision_id": atom.published_revision_id, "session_id": None,
            "client_attempt_id": attempt_id, "response": {"user_answer": "ünï", "n": [1, 2]},
            "correct": True, "score": 1.0, "quality": 4, "answered_at": answered,
            "origin": Origin.LEGACY, "legacy_key": str(number),
        }  # fmt: skip

    with transaction.atomic():
        rows_insert(Attempt, [attempt_row(1)])
    with transaction.atomic():
        rows_insert(Attempt, [attempt_row(1), attempt_row(2)])  # 1 conflicts: row by row
    stored = list(Attempt.objects.order_by("legacy_key"))
    assert [a.legacy_key for a in stored] == ["1", "2"]
    for attempt in stored:
        assert attempt.response == {"user_answer": "ünï", "n": [1, 2]}
        assert attempt.answered_at == answered
        assert attempt.learner_id == learner.pk
        # The model's defaults, as the ORM would have stored them
        assert (attempt.selected_options, attempt.scheduler_state_after) == ([], {})
        assert attempt.created_at is not None and attempt.feedback == ""
