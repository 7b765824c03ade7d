"""The event log holds exactly one event per action, recorded after the commit only: none for
a rolled-back transaction, one INSERT for a batch, none for a replay; the schema refuses what
does not fit it."""

import re
import uuid
from datetime import date

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.analytics.models import AnalyticsEvent
from apps.analytics.schema import SCHEMAS, EventKind, InvalidEvent
from apps.analytics.services import event_record
from apps.learning.models import Attempt
from apps.learning.services.attempts import AttemptInput, attempts_ingest
from apps.learning.services.sessions import study_session_complete, study_session_start
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.helpers import CORRECT_MCQ

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def kinds() -> list[str]:
    return list(AnalyticsEvent.objects.order_by("id").values_list("kind", flat=True))


def answer(atom, session=None, client_attempt_id=None) -> AttemptInput:
    return AttemptInput(
        client_attempt_id or uuid.uuid4(), atom.pk, CORRECT_MCQ, 1500, getattr(session, "pk", None)
    )


def event_inserts(queries) -> int:
    return sum('INSERT INTO "analytics_analyticsevent"' in q["sql"] for q in queries)


@pytest.fixture
def course():
    return CourseFactory()


@pytest.fixture
def atoms(course):
    concept = ConceptFactory(course=course)
    return [make_atom("mcq", concept=concept, title=f"atom {n}") for n in range(4)]


def test_a_session_start_records_one_event_and_only_at_the_commit(
    learner, course, django_capture_on_commit_callbacks
):
    # when a session starts
    with django_capture_on_commit_callbacks() as callbacks:
        session = study_session_start(learner=learner, course=course, device="ios")
        # then nothing is written inside the transaction
        assert kinds() == []
    for callback in callbacks:
        callback()

    # and one event once it commits
    event = AnalyticsEvent.objects.get()
    assert (event.kind, event.schema_version) == ("session_started", 1)
    assert (event.learner_id, event.course_id) == (learner.pk, course.pk)
    assert event.payload == {"session": str(session.pk), "session_kind": "practice",
                             "device": "ios"}  # fmt: skip


def test_a_session_completed_once_records_one_event(
    learner, course, django_capture_on_commit_callbacks
):
    session = study_session_start(learner=learner, course=course)
    with django_capture_on_commit_callbacks(execute=True):
        study_session_complete(session=session)
        study_session_complete(session=session)  # idempotent: no second event

    assert kinds() == ["session_completed"]
    assert AnalyticsEvent.objects.get().payload["session"] == str(session.pk)


def test_a_batch_of_attempts_is_one_event_each_in_one_insert_and_a_replay_none(
    learner, atoms, course, django_capture_on_commit_callbacks
):
    inputs = [answer(atom) for atom in atoms]

    # when a batch of four is stored and its transaction commits
    with django_capture_on_commit_callbacks() as callbacks:
        attempts_ingest(learner=learner, inputs=inputs)
    with CaptureQueriesContext(connection) as queries:
        for callback in callbacks:
            callback()

    # then four events, in one INSERT
    assert event_inserts(queries.captured_queries) == 1
    events = AnalyticsEvent.objects.filter(kind="attempt_recorded")
    assert events.count() == 4
    attempt_ids = {str(pk) for pk in Attempt.objects.values_list("pk", flat=True)}
    assert {e.payload["attempt"] for e in events} == attempt_ids
    assert {e.course_id for e in events} == {course.pk}

    # when the same batch is sent again: replays record nothing
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = attempts_ingest(learner=learner, inputs=inputs)
    assert {o.status for o in outcomes} == {"replayed"}
    assert AnalyticsEvent.objects.filter(kind="attempt_recorded").count() == 4


def test_a_rolled_back_attempt_records_nothing(learner, atoms, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        attempts_ingest(learner=learner, inputs=[answer(atoms[0])])
        raise Boom

    assert Attempt.objects.count() == 0
    assert kinds() == []


@pytest.mark.django_db(transaction=True)
def test_a_real_rollback_records_nothing_and_a_real_commit_one(learner, atoms):
    # a transaction that really rolls back (no test transaction around it)
    with pytest.raises(Boom), transaction.atomic():
        attempts_ingest(learner=learner, inputs=[answer(atoms[0])])
        raise Boom
    assert kinds() == []

    # and one that commits
    attempts_ingest(learner=learner, inputs=[answer(atoms[0])])
    assert kinds() == ["attempt_recorded"]


def test_a_mock_test_submit_records_one_event(learner, course, atoms,
                                              django_capture_on_commit_callbacks):  # fmt: skip
    from apps.assessment.models import MockTestBlueprint
    from apps.assessment.services import (
        SectionInput,
        mock_test_blueprint_save,
        mock_test_start,
        mock_test_submit,
    )

    mock_test_blueprint_save(
        blueprint=MockTestBlueprint(course=course, time_limit_minutes=30, pass_mark_percent=50),
        sections=[SectionInput(2, concept=atoms[0].concepts.first())],
        by=None,
    )
    test = mock_test_start(learner=learner, course=course)
    with django_capture_on_commit_callbacks(execute=True):
        mock_test_submit(test=test)
        mock_test_submit(test=test)  # submitting again returns the same result, no event

    event = AnalyticsEvent.objects.get(kind="mock_test_submitted")
    assert event.payload == {"test": str(test.pk), "score": 0.0, "correct": 0, "total": 2,
                             "passed": False, "auto_submitted": False}  # fmt: skip
    assert event.course_id == course.pk


def test_the_attempt_that_uses_up_the_daily_new_limit_records_it_once(
    learner, course, atoms, django_capture_on_commit_callbacks
):
    course.new_per_day = 2
    course.save(update_fields=["new_per_day"])

    for atom in atoms[:3]:  # the second new atom uses the limit up; the third goes past it
        with django_capture_on_commit_callbacks(execute=True):
            attempts_ingest(learner=learner, inputs=[answer(atom)])
    with django_capture_on_commit_callbacks(execute=True):  # a repeat today is no new atom
        attempts_ingest(learner=learner, inputs=[answer(atoms[0])])

    [event] = AnalyticsEvent.objects.filter(kind="daily_limit_reached")
    assert (event.payload["limit"], event.payload["per_day"]) == ("new", 2)
    assert event.course_id == course.pk
    second = Attempt.objects.get(atom=atoms[1])
    assert event.id > AnalyticsEvent.objects.get(payload__attempt=str(second.pk)).id


def test_the_limits_check_runs_only_when_the_batch_could_use_a_limit_up(
    learner, course, atoms, django_capture_on_commit_callbacks
):
    course.new_per_day = 2  # the smallest limit (reviews: 200)
    course.save(update_fields=["new_per_day"])
    noon = timezone.now().replace(hour=12, minute=0)  # London: past the day's 04:00 start

    def day_reads_after_commit(atom) -> int:
        with django_capture_on_commit_callbacks() as callbacks:
            attempts_ingest(learner=learner, inputs=[answer(atom)], now=noon)
        with (  # the check's own event is recorded at a commit too: run it
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            for callback in callbacks:
                callback()
        sql = [q["sql"] for q in queries.captured_queries]
        # the service hands the check the learner and the course's limits: no reads of them
        assert not [
            s for s in sql if 'FROM "accounts_user"' in s or 'FROM "curriculum_course"' in s
        ]
        return sum(bool(re.search(r'FROM "?learning_attempt\b', s)) for s in sql)

    # the day's first answer: fewer answers today than the smallest limit, no check
    assert day_reads_after_commit(atoms[0]) == 0
    # a second answer on that atom today moves no count: no check at all
    assert day_reads_after_commit(atoms[0]) == 0
    # another atom, new today, with as many answers today as the smallest limit: checked
    assert day_reads_after_commit(atoms[1]) == 1
    [event] = AnalyticsEvent.objects.filter(kind="daily_limit_reached")
    assert event.payload["limit"] == "new"


def test_a_batch_crossing_the_limit_records_it_once(
    learner, course, atoms, django_capture_on_commit_callbacks
):
    course.new_per_day = 2
    course.save(update_fields=["new_per_day"])

    with django_capture_on_commit_callbacks(execute=True):
        attempts_ingest(learner=learner, inputs=[answer(atom) for atom in atoms])

    assert AnalyticsEvent.objects.filter(kind="daily_limit_reached").count() == 1


def test_the_schema_refuses_an_unknown_kind_and_a_bad_payload(
    learner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(InvalidEvent, match="Unknown analytics event kind"):
            event_record("session_paused", learner=learner)
        with pytest.raises(InvalidEvent, match=r"needs payload\.session"):
            event_record(EventKind.SESSION_STARTED, learner=learner, session_kind="practice")
        with pytest.raises(InvalidEvent, match=r"payload\.session: expected uuid"):
            event_record(EventKind.SESSION_STARTED, session="nope", session_kind="practice")
        with pytest.raises(InvalidEvent, match="no payload field email"):
            event_record(EventKind.COHORT_ASSIGNED, cohort="v1", source="x", email="a@b.c")
        with pytest.raises(InvalidEvent, match="expected int"):
            event_record(EventKind.DAILY_LIMIT_REACHED, limit="new", per_day=True, day=None)
        with pytest.raises(InvalidEvent, match=r"payload\.limit"):
            event_record(EventKind.DAILY_LIMIT_REACHED, limit="xp", per_day=3, day=date.today())
    assert callbacks == []


def test_every_kind_has_a_versioned_schema():
    assert set(SCHEMAS) == set(EventKind.values)
    assert all(schema.version >= 1 for schema in SCHEMAS.values())


@pytest.mark.legacy_sync
@pytest.mark.django_db(databases=["default", "legacy"])
def test_a_cohort_assignment_records_one_event_when_it_is_made_or_moved(
    learner, course, django_capture_on_commit_callbacks
):
    from apps.legacy_sync.live.flags import sync_flags_update

    # when the learner starts two sessions (the adapter records the cohort after each commit)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            study_session_start(learner=learner, course=course)
    # then one assignment event: the second start found it made
    [first] = AnalyticsEvent.objects.filter(kind="cohort_assigned")
    assert first.payload == {"cohort": "v1", "source": "rollout"}

    # when the rollout moves the learner to the other cohort
    sync_flags_update(adaptive_rollout_percent=100)
    with django_capture_on_commit_callbacks(execute=True):
        study_session_start(learner=learner, course=course)

    cohorts = AnalyticsEvent.objects.filter(kind="cohort_assigned").order_by("id")
    assert [e.payload["cohort"] for e in cohorts] == ["v1", "adaptive"]
