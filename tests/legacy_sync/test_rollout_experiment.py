"""The v1-versus-adaptive rollout as an experiment (apps/legacy_sync/live/rollout.py): each
rollout percent is one period, an all-course experiment with the arms v1 and adaptive; a
session start assigns the learner their cohort's arm once per period; a percent change ends the
period and starts the next; the analysis page and API read it like any experiment."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.roles import PUBLISHERS
from apps.analytics.models import AnalyticsEvent
from apps.core.models import AuditEvent
from apps.experiments.models import AssignedBy, Assignment, Experiment
from apps.experiments.policy import learner_arm
from apps.learning.models import Attempt
from apps.legacy_sync.live.flags import learner_bucket, sync_flags_update
from apps.legacy_sync.models import CohortAssignment, SyncFlags
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.experiments.factories import make_experiment
from tests.learning.helpers import ATTEMPTS_URL, CORRECT_MCQ, SESSIONS_URL, attempt_payload

pytestmark = pytest.mark.django_db


def running_periods() -> list[Experiment]:
    now = timezone.now()
    return list(
        Experiment.objects.filter(
            assigned_by=AssignedBy.ROLLOUT, starts_at__lte=now, ends_at__gt=now
        ).prefetch_related("arms")
    )


def split_of(experiment) -> dict:
    return {arm.key: (arm.weight, arm.is_control, arm.algorithm, arm.parameters)
            for arm in experiment.arms.all()}  # fmt: skip


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def session_start(user, capture, course=None):
    body = {"course": str(course.pk)} if course else {}
    with capture(execute=True):  # the adapter records cohorts after the commit
        response = client_of(user).post(SESSIONS_URL, body, format="json")
    assert response.status_code == 201, response.content


def test_a_rollout_percent_is_one_experiment_on_every_course_with_two_arms():
    sync_flags_update(adaptive_rollout_percent=30)

    [period] = running_periods()

    assert period.course is None and period.assigned_by == AssignedBy.ROLLOUT
    # both arms keep the course's scheduling: the cohort changes nothing server-side
    assert split_of(period) == {"v1": (70, True, "", {}), "adaptive": (30, False, "", {})}
    assert AuditEvent.objects.filter(action="experiment_created", target_id=str(period.pk),
                                     source="sync").exists()  # fmt: skip


def test_a_session_start_assigns_the_cohort_s_arm_exactly_once(
    django_capture_on_commit_callbacks,
):
    # given the rollout at 50% and an algorithm experiment on a course
    sync_flags_update(adaptive_rollout_percent=50)
    [period] = running_periods()
    course = CourseFactory()
    algorithms = make_experiment(course)
    learner = UserFactory()

    # when the learner starts two sessions there, and one elsewhere
    for where in (course, course, None):
        session_start(learner, django_capture_on_commit_callbacks, where)

    # then they have one arm of the rollout's period, their cohort, and one of the course's
    rollout = Assignment.objects.get(experiment=period, learner=learner)
    cohort = CohortAssignment.objects.get(learner=learner).cohort
    assert rollout.arm.key == cohort == ("adaptive" if learner_bucket(learner.pk) < 50 else "v1")
    assert Assignment.objects.filter(experiment=algorithms, learner=learner).count() == 1
    assert Assignment.objects.filter(learner=learner).count() == 2
    events = AnalyticsEvent.objects.filter(kind="arm_assigned", payload__experiment=str(period.pk))
    assert [(e.learner_id, e.course_id, e.payload["arm"]) for e in events] == [
        (learner.pk, None, cohort)]  # fmt: skip


def test_every_learner_s_arm_is_their_cohort(django_capture_on_commit_callbacks):
    sync_flags_update(adaptive_rollout_percent=50)
    learners = UserFactory.create_batch(30)

    for learner in learners:
        session_start(learner, django_capture_on_commit_callbacks)

    arms = dict(Assignment.objects.values_list("learner_id", "arm__key"))
    cohorts = dict(CohortAssignment.objects.values_list("learner_id", "cohort"))
    assert arms == cohorts and len(arms) == 30
    assert set(arms.values()) == {"v1", "adaptive"}  # 30 learners: both halves present


def test_a_percent_change_ends_the_period_and_starts_the_next(
    django_capture_on_commit_callbacks,
):
    # given a learner assigned in the 30% period
    sync_flags_update(adaptive_rollout_percent=30)
    [first] = running_periods()
    learner = UserFactory()
    session_start(learner, django_capture_on_commit_callbacks)

    # when the percent moves to 60 (another flag's change, or the same percent, changes nothing)
    sync_flags_update(shadow_read_percent=55)
    sync_flags_update(adaptive_rollout_percent=30)
    assert running_periods() == [first]
    changed_at = timezone.now()
    sync_flags_update(adaptive_rollout_percent=60)

    # then the 30% period ended then, its assignment kept, and a 60% period runs
    first.refresh_from_db()
    assert first.ends_at <= timezone.now() and first.ends_at >= changed_at
    [second] = running_periods()
    assert {k: w for k, (w, *_) in split_of(second).items()} == {"v1": 40, "adaptive": 60}
    assert AuditEvent.objects.filter(action="experiment_ended", target_id=str(first.pk)).exists()
    # the learner's next session assigns them in the new period, by the new split
    session_start(learner, django_capture_on_commit_callbacks)
    by_period = dict(Assignment.objects.filter(learner=learner)
                     .values_list("experiment_id", "arm__key"))  # fmt: skip
    assert set(by_period) == {first.pk, second.pk}
    assert by_period[second.pk] == ("adaptive" if learner_bucket(learner.pk) < 60 else "v1")

    # and at 0% (or 100%) nobody is compared: no period runs
    sync_flags_update(adaptive_rollout_percent=0)
    assert running_periods() == []
    session_start(UserFactory(), django_capture_on_commit_callbacks)
    assert Assignment.objects.count() == 2


def test_a_percent_set_before_the_rollout_was_an_experiment_starts_its_period(
    django_capture_on_commit_callbacks,
):
    # given a percent stored without a period (set before this release, or by the default)
    sync_flags_update(dual_write=False)
    SyncFlags.objects.filter(pk=1).update(adaptive_rollout_percent=40)
    learner = UserFactory()

    # when a learner starts a session
    session_start(learner, django_capture_on_commit_callbacks)

    # then the 40% period started, once, and they are in it
    [period] = running_periods()
    assert split_of(period)["adaptive"][0] == 40
    assert Assignment.objects.get(learner=learner).experiment == period
    session_start(UserFactory(), django_capture_on_commit_callbacks)
    assert len(running_periods()) == 1 and period.assignments.count() == 2


def test_the_rollout_s_arms_change_no_scheduling(django_capture_on_commit_callbacks):
    # given a period that began two days ago, and an all-course FSRS experiment that began
    # yesterday (after it), which puts everyone in its FSRS arm
    sync_flags_update(adaptive_rollout_percent=50)
    [period] = running_periods()
    Experiment.objects.filter(pk=period.pk).update(starts_at=timezone.now() - timedelta(days=2))
    fsrs_for_all = make_experiment(None, [("control", "", {}, 1, True),
                                          ("fsrs", "fsrs", {}, 10**6, False)])  # fmt: skip
    course = CourseFactory(default_algorithm="sm2")
    atom = make_atom("mcq", concept=ConceptFactory(course=course))
    learner, bystander = UserFactory(), UserFactory()
    session_start(learner, django_capture_on_commit_callbacks, course)
    session_start(bystander, django_capture_on_commit_callbacks, course)
    Assignment.objects.filter(learner=bystander, experiment=fsrs_for_all).delete()
    assert Assignment.objects.filter(experiment=period).count() == 2

    # when both answer
    for who in (learner, bystander):
        response = client_of(who).post(ATTEMPTS_URL, attempt_payload(atom, CORRECT_MCQ),
                                       format="json")  # fmt: skip
        assert response.status_code == 201, response.content

    # then the FSRS arm schedules its learner (the rollout's arm does not hide it), and the
    # one in the rollout only follows the course
    arm = learner_arm(learner_id=learner.pk, course_id=course.pk, now=timezone.now())
    assert arm.key == "fsrs"
    assert learner_arm(learner_id=bystander.pk, course_id=course.pk, now=timezone.now()) is None
    algorithms = {a.learner_id: a.scheduler_state_after.get("algorithm", "sm2")
                  for a in Attempt.objects.all()}  # fmt: skip
    assert algorithms == {learner.pk: "fsrs", bystander.pk: "sm2"}


def test_the_analysis_page_and_api_read_the_rollout(django_capture_on_commit_callbacks, client):
    # given a period with learners in both cohorts
    sync_flags_update(adaptive_rollout_percent=50)
    [period] = running_periods()
    for learner in UserFactory.create_batch(12):
        session_start(learner, django_capture_on_commit_callbacks)
    staff = UserFactory(is_staff=True, roles=[PUBLISHERS])
    client.force_login(staff)

    # when a Publisher reads its analysis, on the admin page and through the API
    page = client.get(f"/admin/experiments/experiment/{period.pk}/analysis/")
    api = client_of(staff).get(f"/api/v1/experiments/{period.pk}/analysis/")
    change = client.get(f"/admin/experiments/experiment/{period.pk}/change/")

    # then both compare adaptive against the v1 control, with the SRM check on the 50/50 split
    assert page.status_code == 200
    text = page.content.decode()
    assert "every course" in text and "v1</strong> (control)" in text and "adaptive" in text
    assert "Sample-ratio check" in text
    assert api.status_code == 200
    body = api.json()
    assert body["experiment"]["assigned_by"] == "rollout" and body["control"] == "v1"
    assert [arm["key"] for arm in body["arms"]] == ["v1", "adaptive"]
    assert sum(body["srm"]["observed"]) == 12 and body["srm"]["expected"] == [6.0, 6.0]
    # the period follows the flag: the admin shows it read-only
    assert change.status_code == 200 and b'name="_save"' not in change.content
