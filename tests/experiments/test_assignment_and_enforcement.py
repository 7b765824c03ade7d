"""Learners are assigned at their first session start in the course while an experiment runs,
once, as an analytics event; their arm then schedules their reviews and shapes next items."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.analytics.models import AnalyticsEvent
from apps.experiments.models import Assignment
from apps.learning.models import Attempt
from apps.learning.services.sessions import study_session_start
from apps.scheduler.selectors import next_items_today
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.experiments.factories import make_experiment
from tests.learning.helpers import ATTEMPTS_URL, CORRECT_MCQ, SESSIONS_URL, attempt_payload

pytestmark = pytest.mark.django_db

# control on the course's SM-2, the other arm FSRS; the weights put (almost) everyone in it
FSRS_FOR_ALL = [("control", "", {}, 1, True),
                ("fsrs", "fsrs", {"desired_retention": 0.85}, 10**6, False)]  # fmt: skip


@pytest.fixture
def course():
    course = CourseFactory(default_algorithm="sm2")
    make_atom("mcq", concept=ConceptFactory(course=course))
    return course


def start(client, course):
    response = client.post(SESSIONS_URL, {"course": str(course.pk)}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_the_first_session_in_the_course_assigns_once_and_announces_it(
    learner_client, learner, course, django_capture_on_commit_callbacks
):
    experiment = make_experiment(course)
    learner_client.get("/api/v1/me/")
    assert not Assignment.objects.exists()  # reading /me/ assigns nothing

    with django_capture_on_commit_callbacks(execute=True):
        session_id = start(learner_client, course)
    with django_capture_on_commit_callbacks(execute=True):
        start(learner_client, course)

    assignment = Assignment.objects.get()
    assert (assignment.experiment, assignment.learner, str(assignment.session_id)) == (
        experiment, learner, session_id)  # fmt: skip
    events = AnalyticsEvent.objects.filter(kind="arm_assigned")
    assert [(e.learner_id, e.course_id, e.payload) for e in events] == [
        (learner.pk, course.pk, {"experiment": str(experiment.pk), "arm": assignment.arm.key})
    ]


def test_the_same_learner_gets_the_same_arm_whatever_the_order(course):
    experiment = make_experiment(course)
    learners = UserFactory.create_batch(30)
    for learner in learners:
        study_session_start(learner=learner, course=course)
    first = dict(Assignment.objects.values_list("learner_id", "arm__key"))
    Assignment.objects.all().delete()
    for learner in reversed(learners):
        study_session_start(learner=learner, course=course)

    assert dict(Assignment.objects.values_list("learner_id", "arm__key")) == first
    assert set(first.values()) == {"control", "fsrs"}
    assert experiment.assignments.count() == 30


def test_no_assignment_outside_the_course_or_the_experiment_s_dates(learner, course):
    now = timezone.now()
    make_experiment(course, name="over", starts_at=now - timedelta(days=9),
                    ends_at=now - timedelta(days=1))  # fmt: skip
    make_experiment(course, name="future", starts_at=now + timedelta(days=1))
    make_experiment(CourseFactory(), name="elsewhere")

    study_session_start(learner=learner, course=course)
    study_session_start(learner=learner)  # no course

    assert not Assignment.objects.exists()


def test_an_assigned_learner_is_scheduled_by_the_arm(learner_client, learner, course):
    atom = make_atom("mcq", concept=course.concepts.get())
    make_experiment(course, FSRS_FOR_ALL)
    start(learner_client, course)
    assert Assignment.objects.get().arm.key == "fsrs"

    response = learner_client.post(ATTEMPTS_URL, attempt_payload(atom, CORRECT_MCQ), format="json")

    assert response.status_code == 201
    after = Attempt.objects.get().scheduler_state_after
    assert after["algorithm"] == "fsrs" and "stability" in after


def test_a_learner_not_assigned_and_one_after_the_end_follow_the_course(
    learner_client, learner, course
):
    atom = make_atom("mcq", concept=course.concepts.get())
    experiment = make_experiment(course, FSRS_FOR_ALL)
    other = UserFactory()  # never started a session: not assigned
    from rest_framework.test import APIClient

    other_client = APIClient()
    other_client.force_authenticate(other)
    other_client.post(ATTEMPTS_URL, attempt_payload(atom, CORRECT_MCQ), format="json")
    start(learner_client, course)
    experiment.ends_at = timezone.now() - timedelta(seconds=1)
    experiment.starts_at = experiment.ends_at - timedelta(days=2)
    experiment.save()
    learner_client.post(ATTEMPTS_URL, attempt_payload(atom, CORRECT_MCQ), format="json")

    algorithms = {a.learner_id: a.scheduler_state_after.get("algorithm", "sm2")
                  for a in Attempt.objects.all()}  # fmt: skip
    assert algorithms == {other.pk: "sm2", learner.pk: "sm2"}


def test_next_items_follow_the_arm_s_mix_of_new_and_review(learner, course):
    # given a course that offers only reviews while any is due (ratio 0), one atom reviewed
    # and due, and the arm that offers new atoms first (ratio 1)
    course.new_item_ratio = 0.0
    course.save()
    concept = course.concepts.get()
    seen, fresh = concept.atoms.get(), make_atom("mcq", concept=concept)
    from apps.scheduler.models import LearnerAtomState

    LearnerAtomState.objects.create(learner=learner, atom=seen, reviews=1,
                                    due_at=timezone.now() - timedelta(days=1))  # fmt: skip
    assert next_items_today(learner=learner, course=course, limit=1).items[0].atom_id == seen.pk

    make_experiment(course, [("control", "", {}, 1, True),
                             ("new-first", "", {"new_item_ratio": 1.0}, 10**6, False)])  # fmt: skip
    study_session_start(learner=learner, course=course)
    chosen = next_items_today(learner=learner, course=course, limit=1)

    assert chosen.arm == "new-first"
    assert chosen.items[0].atom_id == fresh.pk


def test_a_replay_of_the_attempt_log_schedules_by_the_arm_too(learner_client, learner, course):
    # given a learner in the FSRS arm who answered an atom (scheduled by the arm)
    from apps.scheduler.models import LearnerAtomState
    from apps.scheduler.services import atom_state_rebuild, scheduling_policy_for_atom

    atom = make_atom("mcq", concept=course.concepts.get())
    make_experiment(course, FSRS_FOR_ALL)
    start(learner_client, course)
    learner_client.post(ATTEMPTS_URL, attempt_payload(atom, CORRECT_MCQ), format="json")
    LearnerAtomState.objects.filter(learner=learner, atom=atom).update(state={})

    # when the state is rebuilt from the log with no policy given (as a progress restore does)
    row = atom_state_rebuild(learner=learner, atom_id=atom.pk)

    # then the replay used the arm's algorithm and retention, not the course's SM-2
    assert row.state["algorithm"] == "fsrs" and "stability" in row.state
    policy = scheduling_policy_for_atom(atom.pk, learner)
    assert (policy.algorithm, policy.desired_retention) == ("fsrs", 0.85)
    assert scheduling_policy_for_atom(atom.pk, UserFactory()).algorithm == "sm2"  # not assigned


def test_with_the_process_memo_no_experiment_costs_no_arm_read_and_a_new_one_applies_at_once(
    learner, course, memo_clock, django_capture_on_commit_callbacks, django_assert_num_queries
):
    from apps.experiments.policy import learner_arm

    # memo_clock: production's setting, the windows are kept in the process
    now = timezone.now()
    learner_arm(learner_id=learner.pk, course_id=course.pk, now=now)  # reads the windows
    with django_assert_num_queries(0):  # no experiment: no read of the learner's arm
        assert learner_arm(learner_id=learner.pk, course_id=course.pk, now=now) is None

    # an experiment saved in this process is enforced on the next call (its commit forgets
    # the kept windows), and the learner's arm read again
    with django_capture_on_commit_callbacks(execute=True):
        make_experiment(course, arms=FSRS_FOR_ALL)
    with django_capture_on_commit_callbacks(execute=True):
        study_session_start(learner=learner, course=course)
    arm = learner_arm(learner_id=learner.pk, course_id=course.pk, now=timezone.now())
    assert arm is not None and arm.key == "fsrs"
