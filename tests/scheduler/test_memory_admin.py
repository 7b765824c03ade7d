"""The learner memory page in the admin: forgetting curves, P(known) over time and the due
forecast, for authors and staff, computed from stored state without writing anything."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from apps.learning.services.attempts import AttemptInput, attempts_ingest
from apps.scheduler.memory import due_forecast, forgetting_curves, recall_after
from apps.scheduler.models import LearnerAtomState
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def state(algorithm_state: dict, interval_days: float = 4.0) -> LearnerAtomState:
    reviewed = NOW - timedelta(days=1)
    return LearnerAtomState(state=algorithm_state, last_reviewed_at=reviewed,
                            due_at=reviewed + timedelta(days=interval_days))  # fmt: skip


def test_each_model_forgets_as_it_is_defined():
    # FSRS: recall is 90% after `stability` days; HLR: 50% after a half-life; SM-2: 90% when due
    fsrs = state({"algorithm": "fsrs", "stability": 5.0})
    hlr = state({"algorithm": "hlr", "half_life_days": 3.0})
    sm2 = state({"algorithm": "sm2"}, interval_days=6.0)

    assert recall_after(fsrs, 4, NOW, decay=0.1542) == pytest.approx(0.9)
    assert recall_after(hlr, 2, NOW, decay=0.1542) == pytest.approx(0.5)
    assert recall_after(sm2, 5, NOW, decay=0.1542) == pytest.approx(0.9)
    assert recall_after(fsrs, 30, NOW, 0.1542) < recall_after(fsrs, 10, NOW, 0.1542) < 1
    assert recall_after(LearnerAtomState(state={}), 0, NOW, 0.1542) is None


@pytest.fixture
def practised():
    course = CourseFactory()
    concept = ConceptFactory(course=course, text="Stopping distances")
    atoms = [make_atom("true_false", concept=concept, title=f"Fact {n}",
                       grading_logic={"answer": True}) for n in range(3)]  # fmt: skip
    learner = UserFactory(timezone="Europe/London")
    answers = [AttemptInput(uuid.uuid4(), atom.pk, {"value": n != 1}, 900, None)
               for n, atom in enumerate(atoms)]  # fmt: skip
    attempts_ingest(learner=learner, inputs=answers)
    return course, learner


def test_curves_and_forecast_come_from_the_learners_states(practised):
    course, learner = practised

    curves = forgetting_curves(learner=learner, course=course, days=60)
    forecast = due_forecast(learner=learner, course=course, days=30)

    mean, *atoms = curves
    assert mean.label == "Mean of 3 atoms" and len(atoms) == 3
    assert all(a >= b for a, b in zip(mean.recall, mean.recall[1:], strict=False))  # forgets
    assert len(mean.recall) == 61 and 0 < mean.recall[-1] < mean.recall[0] <= 1
    assert len(forecast) == 30
    assert sum(count for _, count in forecast) == LearnerAtomState.objects.filter(
        learner=learner).count()  # fmt: skip


def test_authors_see_the_memory_page_and_learners_do_not(practised):
    course, learner = practised
    url = f"/admin/scheduler/learneratomstate/memory/?learner={learner.pk}&course={course.pk}"
    author, outsider = Client(), Client()
    author.force_login(UserFactory(is_staff=True, roles=["Authors"]))
    outsider.force_login(UserFactory(is_staff=True, roles=["Reviewers"]))
    states_before = list(LearnerAtomState.objects.values_list("pk", "state", "due_at"))

    page = author.get(url)

    assert page.status_code == 200
    body = page.text
    assert "Forgetting curves" in body and 'id="curves-table"' in body
    assert "Stopping distances" in body  # the concept's P(known) history
    assert 'id="memory-data"' in body and "vendor/chartjs/chart.umd.min.js" in body
    assert outsider.get(url).status_code == 403
    assert author.get(url.replace(str(course.pk), str(uuid.uuid4()))).status_code == 404
    assert list(LearnerAtomState.objects.values_list("pk", "state", "due_at")) == states_before


def test_the_states_lists_link_to_the_memory_page(practised):
    course, learner = practised
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))

    listing = staff.get("/admin/scheduler/learneratomstate/", {"q": learner.email})

    assert listing.status_code == 200
    assert f"memory/?learner={learner.pk}&amp;course={course.pk}" in listing.text
    assert staff.get("/admin/scheduler/learnerconceptstate/").status_code == 200
    assert staff.get("/admin/scheduler/fittedmodel/").status_code == 200
