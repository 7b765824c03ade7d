"""The analysis page: per arm figures, intervals, tests against control and the SRM check;
staff with the permission read it, nobody else."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.roles import AUTHORS, PUBLISHERS
from apps.assessment.models import MockTest
from apps.experiments.models import Assignment
from apps.experiments.selectors import experiment_analysis
from apps.learning.models import StudySession
from apps.learning.services.attempts import AttemptInput, attempts_ingest
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.experiments.factories import make_experiment
from tests.learning.helpers import CORRECT_MCQ, WRONG_MCQ

pytestmark = pytest.mark.django_db


def answer(learner, atom, days_ago, response, now, *, at=None):
    at = at or now - timedelta(days=days_ago)
    attempts_ingest(
        learner=learner, inputs=[AttemptInput(uuid.uuid4(), atom.pk, response, answered_at=at)],
        now=now,
    )  # fmt: skip


def mock_test(learner, course, days_ago, passed, now):
    started = now - timedelta(days=days_ago)
    MockTest.objects.create(
        learner=learner, course=course, time_limit_s=600, pass_mark_percent=75, item_count=4,
        started_at=started, expires_at=started + timedelta(minutes=10),
        submitted_at=started + timedelta(minutes=5), correct_count=4 if passed else 1,
        passed=passed,
    )  # fmt: skip


@pytest.fixture
def experiment_with_data():
    return experiment_with_data_make()


def experiment_with_data_make():
    """(experiment, now): three learners in two arms, answers, returns and mock tests whose
    figures the tests below compute by hand (the API's tests reuse them)."""
    now = timezone.now()
    course = CourseFactory()
    concept = ConceptFactory(course=course)
    atom, other = make_atom("mcq", concept=concept), make_atom("mcq", concept=concept)
    experiment = make_experiment(course, starts_at=now - timedelta(days=20))
    control, fsrs = experiment.arms.order_by("position")
    a, b, c = UserFactory(timezone="UTC"), UserFactory(timezone="UTC"), UserFactory()
    assigned = now - timedelta(days=15)
    for learner, arm in ((a, control), (b, fsrs), (c, fsrs)):
        Assignment.objects.create(experiment=experiment, arm=arm, learner=learner,
                                  assigned_at=assigned)  # fmt: skip
    # a (control): first answer, then two reviews on later days, one recalled; a same-day
    # repeat that is no review
    answer(a, atom, 14, CORRECT_MCQ, now)
    answer(a, atom, 10, CORRECT_MCQ, now)
    answer(a, atom, 3, WRONG_MCQ, now)
    # 10:00 and 11:00 UTC three days ago: one calendar day of theirs (it starts at 04:00)
    morning = (now - timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    answer(a, other, None, WRONG_MCQ, now, at=morning)
    answer(a, other, None, CORRECT_MCQ, now, at=morning + timedelta(hours=1))
    # b (fsrs): one review, recalled; c (fsrs): nothing answered
    answer(b, atom, 12, CORRECT_MCQ, now)
    answer(b, atom, 4, CORRECT_MCQ, now)
    # a came back in the week after day 7 of their assignment (day -8 to day -1); b did not
    StudySession.objects.create(learner=a, course=course, started_at=now - timedelta(days=6))
    StudySession.objects.create(learner=b, course=course, started_at=now - timedelta(hours=1))
    mock_test(a, course, 2, True, now)
    mock_test(a, course, 1, False, now)
    mock_test(b, course, 2, True, now)
    mock_test(b, course, 16, False, now)  # before their assignment: not counted
    return experiment, now


def figures(analysis, key):
    row = next(r for r in analysis["arms"] if r["key"] == key)
    return row, {m["name"]: m for m in row["metrics"]}


def test_each_arm_gets_its_figures_and_a_comparison_with_control(experiment_with_data):
    experiment, now = experiment_with_data

    analysis = experiment_analysis(experiment=experiment, now=now)

    control, by_name = figures(analysis, "control")
    assert control["learners"] == 1
    assert (by_name["retention"]["value"].successes, by_name["retention"]["value"].trials) == (1, 2)
    assert by_name["reviews_per_learner"]["value"].mean == 2.0
    assert (by_name["return_7d"]["value"].successes, by_name["return_7d"]["value"].trials) == (1, 1)
    # nobody's 30-day week has ended: not known yet, not a zero
    assert by_name["return_30d"]["value"].rate is None
    assert (by_name["mock_test_pass"]["value"].successes,
            by_name["mock_test_pass"]["value"].trials) == (1, 2)  # fmt: skip
    assert by_name["retention"]["vs_control"] is None

    fsrs, by_name = figures(analysis, "fsrs")
    assert fsrs["learners"] == 2
    assert (by_name["retention"]["value"].successes, by_name["retention"]["value"].trials) == (1, 1)
    assert by_name["reviews_per_learner"]["value"].mean == 0.5  # c counts as 0
    assert (by_name["return_7d"]["value"].successes, by_name["return_7d"]["value"].trials) == (0, 2)
    assert (by_name["mock_test_pass"]["value"].successes,
            by_name["mock_test_pass"]["value"].trials) == (1, 1)  # fmt: skip
    vs = by_name["retention"]["vs_control"]
    assert vs.difference == pytest.approx(0.5)
    # pooled p = 2/3, SE = sqrt(2/9 · (1 + 1/2)) = 0.57735, z = 0.8660
    assert vs.z == pytest.approx(0.8660, abs=5e-5)
    assert not analysis["srm"].mismatch  # 1 vs 2 on an even split


def test_the_sample_ratio_check_fires_on_a_skewed_assignment():
    course = CourseFactory()
    experiment = make_experiment(course)
    control, fsrs = experiment.arms.order_by("position")
    now = timezone.now()
    learners = UserFactory.create_batch(60)
    for n, learner in enumerate(learners):  # 50 vs 10 on a 50/50 split: χ² = 26.7
        Assignment.objects.create(experiment=experiment, arm=control if n < 50 else fsrs,
                                  learner=learner, assigned_at=now)  # fmt: skip

    srm = experiment_analysis(experiment=experiment)["srm"]

    assert srm.chi_square == pytest.approx(26.6667, abs=1e-4)
    assert srm.mismatch


def analysis_url(experiment) -> str:
    return f"/admin/experiments/experiment/{experiment.pk}/analysis/"


def test_the_page_renders_for_staff_with_the_permission(experiment_with_data, client):
    experiment, _ = experiment_with_data
    client.force_login(UserFactory(is_staff=True, roles=[PUBLISHERS]))

    response = client.get(analysis_url(experiment))

    assert response.status_code == 200
    page = response.content.decode()
    assert "control" in page and "fsrs" in page
    assert "Sample-ratio check" in page and "no mismatch" in page
    assert "0.5000" in page  # the difference in retention against control


@pytest.mark.parametrize("who", ["author", "learner", "anonymous"])
def test_the_page_is_refused_to_others(experiment_with_data, client, who):
    experiment, _ = experiment_with_data
    if who == "author":
        client.force_login(UserFactory(is_staff=True, roles=[AUTHORS]))
    elif who == "learner":
        client.force_login(UserFactory())

    response = client.get(analysis_url(experiment))

    if who == "author":
        assert response.status_code == 403
    else:
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
