"""Course IRT calibration from sparse practice: the nightly task, the per-atom minimum, linking
to the previous calibration and the FittedModel history."""

import uuid
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.content.models import LearningAtom
from apps.learning.models import Attempt
from apps.scheduler.algorithms.irt import eap_ability, p_correct
from apps.scheduler.calibration import MIN_RESPONSES, course_items_calibrate
from apps.scheduler.fitted import fitted_model_in_use
from apps.scheduler.models import FittedModel
from apps.scheduler.tasks import irt_calibrate_all_task
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory

pytestmark = pytest.mark.django_db

TRUE_A = np.array([0.8, 1.4, 1.0, 1.8, 1.2, 0.9, 1.6, 1.1])
TRUE_B = np.array([-1.6, -1.0, -0.5, 0.0, 0.3, 0.8, 1.2, 1.7])


def _course(n_atoms: int = len(TRUE_B)):
    course = CourseFactory()
    concept = ConceptFactory(course=course)
    atoms = [make_atom("flashcard", concept=concept, title=f"Item {j}") for j in range(n_atoms)]
    return course, atoms


_learners = iter(range(10**9))


def _practise(rng, atoms, thetas, answered_share: float, a=TRUE_A, b=TRUE_B, start=None):
    """Each learner answers a random ``answered_share`` of the atoms once (plus a second, later
    attempt at their first atom, which calibration must ignore). Bulk-inserted for speed."""
    users = User.objects.bulk_create(
        [User(email=f"sparse{next(_learners)}@example.com") for _ in thetas]
    )
    start = start or timezone.now() - timedelta(days=30)
    p = p_correct(np.asarray(thetas), np.atleast_1d(a), np.atleast_1d(b))
    answers = rng.random((len(thetas), len(atoms))) < p
    administered = rng.random(answers.shape) < answered_share
    rows = []
    for i, user in enumerate(users):
        for j in np.flatnonzero(administered[i]):
            rows.append((user, atoms[j], bool(answers[i, j]), start + timedelta(minutes=int(j))))
        if administered[i].any():
            j = int(np.flatnonzero(administered[i])[0])
            rows.append((user, atoms[j], True, start + timedelta(days=1)))
    Attempt.objects.bulk_create(
        [
            Attempt(
                learner=user,
                atom=atom,
                revision=atom.published_revision,
                correct=correct,
                client_attempt_id=uuid.uuid4(),
                score=float(correct),
                quality=4 if correct else 1,
                answered_at=when,
            )
            for user, atom, correct, when in rows
        ]
    )
    return users, answers, administered


def _params(atoms):
    rows = LearningAtom.objects.filter(pk__in=[a.pk for a in atoms]).values_list(
        "pk", "irt_a", "irt_b", "irt_c"
    )
    by_pk = {pk: (a, b, c) for pk, a, b, c in rows}
    return np.array([by_pk[atom.pk] for atom in atoms]).T


def test_the_nightly_task_calibrates_items_from_sparse_practice():
    # given a published course whose 800 learners each answered about half of its 8 atoms
    rng = np.random.default_rng(7)
    course, atoms = _course()
    _practise(rng, atoms, rng.standard_normal(800), 0.5)

    # when the nightly beat's task runs (eagerly in tests)
    irt_calibrate_all_task.delay()

    # then every atom carries estimates that match its generating parameters within their
    # standard errors, which the calibration records with the responses behind each
    a, b, c = _params(atoms)
    record = fitted_model_in_use(kind="irt", course=course)
    items = [record.parameters["items"][str(atom.pk)] for atom in atoms]
    se_a, se_b = (np.array([item[key] for item in items]) for key in ("se_a", "se_b"))
    assert np.corrcoef(b, TRUE_B)[0, 1] > 0.9
    assert np.all(np.abs(b - TRUE_B) < 3 * se_b) and np.all(np.abs(a - TRUE_A) < 3 * se_a)
    np.testing.assert_array_equal(c, 0.0)
    assert record.version == 1 and record.in_use
    assert record.parameters["link"] == {"A": 1.0, "B": 0.0, "method": "none", "anchors": 0}
    assert set(items[3]) == {"a", "b", "c", "se_a", "se_b", "n"}
    assert all(350 < item["n"] < 450 for item in items)  # first attempts only, ≈ 800 × 0.5
    assert items[3]["b"] == pytest.approx(b[3])
    assert record.samples == sum(item["n"] for item in items)
    assert record.metrics["missing_share"] == pytest.approx(0.5, abs=0.03)


def test_atoms_under_the_minimum_keep_their_parameters():
    # given a course where one atom, with authored parameters, was answered by few learners
    rng = np.random.default_rng(8)
    course, atoms = _course(4)
    rare = make_atom("flashcard", concept=atoms[0].live_concepts.first(), title="Rare",
                     irt_a=0.7, irt_b=1.23)  # fmt: skip
    _practise(rng, atoms, rng.standard_normal(300), 0.8, TRUE_A[:4], TRUE_B[:4])
    _practise(rng, [rare], rng.standard_normal(MIN_RESPONSES - 10), 1.0, 1.0, 0.0)

    # when the course is calibrated
    updated = course_items_calibrate(course)

    # then the frequent atoms are calibrated and the rare one keeps what it had
    assert updated == 4
    rare.refresh_from_db()
    assert (rare.irt_a, rare.irt_b, rare.irt_c) == (0.7, 1.23, 0.0)
    record = fitted_model_in_use(kind="irt", course=course)
    assert str(rare.pk) not in record.parameters["items"]
    assert record.metrics["atoms_below_minimum"] == 1


def test_a_course_without_enough_responses_is_left_alone():
    rng = np.random.default_rng(9)
    course, atoms = _course(3)
    _practise(rng, atoms, rng.standard_normal(30), 1.0, TRUE_A[:3], TRUE_B[:3])

    assert course_items_calibrate(course) == 0
    np.testing.assert_array_equal(_params(atoms)[1], 0.0)
    assert not FittedModel.objects.filter(kind="irt", course=course).exists()


def test_recalibration_is_linked_so_a_stored_ability_keeps_its_meaning():
    # given a first calibration on one cohort, and a learner's ability on that scale
    rng = np.random.default_rng(10)
    course, atoms = _course()
    _practise(rng, atoms, rng.standard_normal(500), 0.5)
    course_items_calibrate(course)
    a1, b1, _ = _params(atoms)
    learner = (rng.random(len(atoms)) < p_correct(0.5, TRUE_A, TRUE_B)).astype(float)
    theta_before = eap_ability(learner, a1, b1)[0]

    # when the same data are calibrated again (forced: the nightly task would skip them), nothing
    # moves
    course_items_calibrate(course, force=True)
    again = fitted_model_in_use(kind="irt", course=course)
    assert again.version == 2 and again.parameters["link"]["method"] == "mean_sigma"
    assert again.parameters["link"]["A"] == pytest.approx(1.0, abs=1e-4)
    assert again.parameters["link"]["B"] == pytest.approx(0.0, abs=1e-4)
    np.testing.assert_allclose(_params(atoms)[1], b1, atol=1e-4)

    # and when a stronger cohort (θ ~ N(1, 1)) has practised too and the course is recalibrated
    _practise(rng, atoms, rng.normal(1.0, 1.0, 500), 0.5)
    course_items_calibrate(course)
    a2, b2, _ = _params(atoms)
    theta_after = eap_ability(learner, a2, b2)[0]

    # then the new calibration was linked on all 8 anchors and the learner's θ barely moves
    link = fitted_model_in_use(kind="irt", course=course).parameters["link"]
    assert link["method"] == "mean_sigma" and link["anchors"] == len(atoms)
    assert link["B"] > 0.25  # unlinked, the scale would have moved by about half a unit
    assert abs(theta_after - theta_before) < 0.1


def test_a_night_without_new_first_attempts_records_nothing():
    # given a course calibrated once
    rng = np.random.default_rng(11)
    course, atoms = _course()
    _practise(rng, atoms, rng.standard_normal(400), 0.6)
    assert course_items_calibrate(course) == len(atoms)

    # when the task runs again on the same attempts (a quiet night, or a redelivery)
    second = course_items_calibrate(course)

    # then no new version is recorded, until new first attempts arrive
    assert second == 0
    assert FittedModel.objects.filter(kind="irt", course=course).count() == 1
    _practise(rng, atoms, rng.standard_normal(50), 0.6)
    assert course_items_calibrate(course) == len(atoms)
    assert FittedModel.objects.filter(kind="irt", course=course).count() == 2


def test_a_calibration_reaches_next_items_at_once():
    # given a course whose candidates next items keeps, with their IRT parameters
    from apps.core.cache_versions import cache_version
    from apps.scheduler.candidates import VERSION

    rng = np.random.default_rng(12)
    course, atoms = _course()
    _practise(rng, atoms, rng.standard_normal(400), 0.6)
    before = cache_version(VERSION)

    # when the course is calibrated, the kept candidates are dropped
    course_items_calibrate(course)

    assert cache_version(VERSION) != before
