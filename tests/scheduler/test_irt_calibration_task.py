import numpy as np
import pytest

from apps.scheduler.algorithms.irt import p_correct
from apps.scheduler.calibration import course_items_calibrate
from apps.scheduler.tasks import irt_calibrate_course_task
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.factories import AttemptFactory

pytestmark = pytest.mark.django_db


def test_calibration_task_updates_item_difficulties_from_attempts():
    # Given 6 atoms of known difficulty answered by 300 simulated learners
    rng = np.random.default_rng(5)
    course = CourseFactory()
    concept = ConceptFactory(course=course)
    true_b = np.array([-1.5, -0.8, 0.0, 0.5, 1.0, 1.6])
    atoms = [make_atom("flashcard", concept=concept, title=f"Item {j}") for j in range(6)]
    thetas = rng.normal(size=300)
    answers = rng.random((300, 6)) < p_correct(thetas, 1.0, true_b, 0.0)
    for i in range(300):
        learner = UserFactory()
        for j, atom in enumerate(atoms):
            AttemptFactory(atom=atom, learner=learner, correct=bool(answers[i, j]))

    # When the Celery task runs (eagerly here)
    irt_calibrate_course_task.delay(str(course.pk), "2pl")

    # Then the atoms carry estimates that track the generating difficulties
    estimated = [type(a).objects.get(pk=a.pk).irt_b for a in atoms]
    assert np.corrcoef(estimated, true_b)[0, 1] > 0.95


def test_calibration_skips_courses_without_a_complete_block():
    course = CourseFactory()
    make_atom("flashcard", concept=ConceptFactory(course=course))

    assert course_items_calibrate(course) == 0
