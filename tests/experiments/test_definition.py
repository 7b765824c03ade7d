"""Defining an experiment: through experiment_save, from the admin too; arms are fixed once a
learner is assigned."""

import pytest
from django.core.exceptions import ValidationError

from apps.accounts.roles import PUBLISHERS
from apps.core.models import AuditEvent
from apps.experiments.models import Arm
from apps.experiments.services import ArmsLocked, experiment_save
from apps.learning.services.sessions import study_session_start
from tests.accounts.factories import UserFactory
from tests.curriculum.factories import CourseFactory
from tests.experiments.factories import make_experiment

pytestmark = pytest.mark.django_db


def test_saving_is_audited():
    experiment = make_experiment(CourseFactory())

    audit = AuditEvent.objects.get(target_id=str(experiment.pk))
    assert audit.action == "experiment_created"
    assert [arm["key"] for arm in audit.details["arms"]] == ["control", "fsrs"]


@pytest.mark.parametrize(
    ("arms", "message"),
    [
        ([("only", "", {}, 1, True)], "at least two arms"),
        ([("a", "", {}, 1, False), ("b", "sm2", {}, 1, False)], "Exactly one arm"),
        ([("a", "", {}, 1, True), ("b", "fsrs", {"retention": 0.9}, 1, False)],
         "unknown parameter 'retention'"),
    ],
)  # fmt: skip
def test_a_bad_definition_is_refused_with_the_reason(arms, message):
    with pytest.raises(ValidationError, match=message):
        make_experiment(CourseFactory(), arms)


def test_arms_are_fixed_once_a_learner_is_assigned_but_the_end_can_move():
    course = CourseFactory()
    experiment = make_experiment(course)
    study_session_start(learner=UserFactory(), course=course)
    arms = list(experiment.arms.order_by("position"))
    arms[1].parameters = {"desired_retention": 0.8}

    with pytest.raises(ArmsLocked):
        experiment_save(experiment=experiment, arms=arms)

    experiment.refresh_from_db()
    experiment.ends_at = experiment.ends_at.replace(year=experiment.ends_at.year + 1)
    experiment_save(experiment=experiment, arms=list(experiment.arms.order_by("position")))
    assert Arm.objects.get(key="fsrs").parameters == {"desired_retention": 0.9}


def test_the_admin_shows_locked_arms_read_only(client):
    course = CourseFactory()
    experiment = make_experiment(course)
    client.force_login(UserFactory(is_staff=True, roles=[PUBLISHERS]))
    page = f"/admin/experiments/experiment/{experiment.pk}/change/"
    assert 'name="arms-0-key"' in client.get(page).content.decode()

    study_session_start(learner=UserFactory(), course=course)

    assert 'name="arms-0-key"' not in client.get(page).content.decode()


def test_the_admin_moves_the_end_of_an_experiment_with_locked_arms(client):
    course = CourseFactory()
    experiment = make_experiment(course)
    study_session_start(learner=UserFactory(), course=course)
    client.force_login(UserFactory(is_staff=True, roles=[PUBLISHERS]))
    page = f"/admin/experiments/experiment/{experiment.pk}/change/"
    arms = list(experiment.arms.order_by("position"))
    ends = experiment.ends_at.replace(year=experiment.ends_at.year + 1)
    body = {
        "name": experiment.name, "course": str(course.pk), "hypothesis": "longer",
        "starts_at_0": experiment.starts_at.date().isoformat(),
        "starts_at_1": experiment.starts_at.strftime("%H:%M:%S"),
        "ends_at_0": ends.date().isoformat(), "ends_at_1": ends.strftime("%H:%M:%S"),
        "arms-TOTAL_FORMS": "2", "arms-INITIAL_FORMS": "2", "arms-MIN_NUM_FORMS": "2",
        "arms-MAX_NUM_FORMS": "1000",
        **{f"arms-{n}-id": str(arm.pk) for n, arm in enumerate(arms)},
        **{f"arms-{n}-experiment": str(experiment.pk) for n in range(2)},
    }  # fmt: skip

    response = client.post(page, body)

    assert response.status_code == 302, response.content.decode()[:2000]
    experiment.refresh_from_db()
    assert (experiment.hypothesis, experiment.ends_at.year) == ("longer", ends.year)
    assert sorted(experiment.arms.values_list("key", "weight")) == [("control", 1), ("fsrs", 1)]
