"""BKT fitted per concept from the course's attempts: EM per skill, the pooled prior, versions,
the minimum amount of data, and the nightly task."""

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from apps.learning.models import Attempt
from apps.scheduler import bkt_fitting
from apps.scheduler.algorithms.bkt import (
    MAX_GUESS,
    BKTParams,
    bkt_fit_skills,
    bkt_params_from_dict,
    bkt_simulate,
)
from apps.scheduler.bkt_fitting import (
    DEFAULT_BKT,
    bkt_parameters_for_concepts,
    course_bkt_fit,
    course_concept_sequences,
)
from apps.scheduler.models import FittedModel
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.factories import AttemptFactory

NAMES = ("p_init", "p_transit", "p_guess", "p_slip")
GENERATING = {
    "fractions": BKTParams(p_init=0.3, p_transit=0.15, p_guess=0.2, p_slip=0.1),
    "decimals": BKTParams(p_init=0.5, p_transit=0.08, p_guess=0.25, p_slip=0.15),
    "ratios": BKTParams(p_init=0.2, p_transit=0.25, p_guess=0.15, p_slip=0.05),
}


def errors(fitted: BKTParams, true: BKTParams) -> dict[str, float]:
    return {name: abs(getattr(fitted, name) - getattr(true, name)) for name in NAMES}


# --- EM per skill (no database) --------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated_skills():
    rng = np.random.default_rng(2026)
    return {skill: list(bkt_simulate(p, 1500, 15, rng)) for skill, p in GENERATING.items()}


def test_em_per_skill_recovers_each_skills_generating_parameters(simulated_skills):
    # Given three skills simulated from different parameters (1,500 learners × 15 answers)
    # When they are fitted together
    fitted = bkt_fit_skills(simulated_skills, minimum_answers=1)

    # Then each skill's fit is within 0.05 of the parameters that generated it
    for skill, true in GENERATING.items():
        fit = fitted.skills[skill]
        assert fit.converged, skill
        assert max(errors(fit.params, true).values()) < 0.05, (skill, fit.params)
        assert fitted.answers[skill] == 1500 * 15
    # And the pooled fit lies between the skills (it is one model for all of them)
    for name in NAMES:
        values = [getattr(p, name) for p in GENERATING.values()]
        assert min(values) - 0.05 < getattr(fitted.pooled.params, name) < max(values) + 0.05


def test_a_skill_below_the_minimum_is_not_fitted_but_counts_in_the_pooled_fit():
    rng = np.random.default_rng(3)
    sequences = {
        "big": list(bkt_simulate(GENERATING["fractions"], 400, 10, rng)),
        "small": list(bkt_simulate(GENERATING["ratios"], 5, 10, rng)),
    }

    fitted = bkt_fit_skills(sequences, minimum_answers=500)

    assert set(fitted.skills) == {"big"}
    assert fitted.answers == {"big": 4000, "small": 50}
    assert fitted.learners == {"big": 400, "small": 5}
    assert fitted.pooled is not None


def test_guess_and_slip_stay_below_one_half_on_data_that_would_push_them_over():
    # Learners answer 80% right without knowing and 60% when they know: unconstrained EM
    # would swap the states' meaning (guess > 0.5 > slip reversed); the fit stays identifiable.
    rng = np.random.default_rng(4)
    known = rng.random(1000) < 0.3
    answers = np.empty((1000, 12), dtype=np.int8)
    for t in range(12):
        answers[:, t] = rng.random(1000) < np.where(known, 0.6, 0.8)
        known |= rng.random(1000) < 0.1

    fit = bkt_fit_skills({"odd": list(answers)}).skills["odd"]

    assert fit.params.p_guess <= MAX_GUESS < 0.5
    assert fit.params.p_slip <= MAX_GUESS < 0.5


# --- from the course's attempts --------------------------------------------------------------


def attempts_from(atom, answers: np.ndarray, start=None) -> None:
    """One learner per row of ``answers``, answering ``atom`` in column order, a minute apart
    (stored in reverse order, so only answered_at gives the order)."""
    start = start or timezone.now() - timedelta(days=3)
    rows = []
    for learner_answers in answers:
        learner = UserFactory()
        for t in reversed(range(len(learner_answers))):
            rows.append(
                AttemptFactory.build(
                    atom=atom,
                    learner=learner,
                    correct=bool(learner_answers[t]),
                    answered_at=start + timedelta(minutes=t),
                )
            )
    Attempt.objects.bulk_create(rows)


def practice(concept, params: BKTParams, learners: int, rng, steps: int = 10):
    """A new atom of ``concept`` answered by ``learners`` simulated learners."""
    atom = make_atom("mcq", concept=concept)
    attempts_from(atom, bkt_simulate(params, learners, steps, rng))
    return atom


@pytest.mark.django_db
def test_sequences_are_per_learner_and_concept_in_answer_order():
    # Given an atom weighted to two concepts of the course and an atom of one of them
    course = CourseFactory()
    first, second = ConceptFactory(course=course), ConceptFactory(course=course)
    shared = make_atom("mcq", concept=first)
    shared.concept_weights.create(concept=second, weight=0.3)
    only_first = make_atom("mcq", concept=first)
    learner = UserFactory()
    start = timezone.now() - timedelta(days=1)
    for minutes, atom, correct in [(2, shared, True), (0, only_first, False), (1, shared, False)]:
        AttemptFactory(
            atom=atom, learner=learner, correct=correct,
            answered_at=start + timedelta(minutes=minutes),
        )  # fmt: skip
    AttemptFactory(atom=make_atom("mcq"), learner=learner)  # another course: not included

    sequences = course_concept_sequences(course)

    # Then each concept has the learner's answers on its atoms in time order
    assert {k: [s.tolist() for s in v] for k, v in sequences.items()} == {
        str(first.pk): [[0, 0, 1]],
        str(second.pk): [[0, 1]],
    }


@pytest.fixture
def small_minimum(monkeypatch):
    """Fits count from 200 answers here, so the tests stay small."""
    monkeypatch.setattr(bkt_fitting, "BKT_MIN_ATTEMPTS", 200)
    return 200


@pytest.mark.django_db
def test_a_course_fit_records_the_pooled_prior_and_concepts_with_enough_data(small_minimum):
    # Given a course with one well-practised concept (300 answers) and one sparse one (40)
    rng = np.random.default_rng(7)
    course = CourseFactory()
    rich, sparse = ConceptFactory(course=course), ConceptFactory(course=course)
    practice(rich, GENERATING["fractions"], 30, rng)
    practice(sparse, GENERATING["ratios"], 4, rng)

    # When the course is fitted
    result = course_bkt_fit(course=course)

    # Then the pooled prior (all 340 answers) and the rich concept are new versions in use;
    # the sparse concept is not fitted
    assert (result.pooled.attempts, result.pooled.version, result.pooled.in_use) == (340, 1, True)
    outcomes = {o.concept_id: o for o in result.concepts}
    assert (outcomes[str(rich.pk)].version, outcomes[str(rich.pk)].in_use) == (1, True)
    assert outcomes[str(sparse.pk)].params is None
    assert outcomes[str(sparse.pk)].attempts == 40
    stored = FittedModel.objects.filter(kind="bkt", course=course)
    assert sorted((row.concept_id is None, row.samples) for row in stored) == [
        (False, 300),
        (True, 340),
    ]
    rich_row = stored.get(concept=rich)
    params = bkt_params_from_dict(rich_row.parameters)
    assert params.p_guess < 0.5 and params.p_slip < 0.5
    assert rich_row.metrics["learners"] == 30 and rich_row.metrics["log_loss"] > 0
    # And live updates read them: the rich concept its own, the sparse one the pooled prior
    lookup = bkt_parameters_for_concepts([rich.pk, sparse.pk])
    assert lookup[str(rich.pk)] == params
    assert lookup[str(sparse.pk)] == result.pooled.params


@pytest.mark.django_db
def test_refitting_unchanged_data_records_nothing_and_new_data_a_new_version(small_minimum):
    rng = np.random.default_rng(8)
    course = CourseFactory()
    concept = ConceptFactory(course=course)
    atom = make_atom("mcq", concept=concept)
    attempts_from(atom, bkt_simulate(GENERATING["fractions"], 25, 10, rng))
    course_bkt_fit(course=course)

    # When it is fitted again on the same attempts (a rerun, a redelivered task)
    again = course_bkt_fit(course=course)

    # Then no version is added
    assert not again.pooled.recorded and again.pooled.version == 1
    assert FittedModel.objects.filter(course=course).count() == 2

    # When more learners answer
    attempts_from(atom, bkt_simulate(GENERATING["fractions"], 5, 10, rng))
    third = course_bkt_fit(course=course)

    # Then the concept and the pooled prior get version 2, and that is what is used
    assert (third.pooled.version, third.concepts[0].version) == (2, 2)
    assert third.concepts[0].attempts == 300
    latest = FittedModel.objects.get(course=course, concept=concept, version=2)
    assert bkt_parameters_for_concepts([concept.pk])[str(concept.pk)] == bkt_params_from_dict(
        latest.parameters
    )


@pytest.mark.django_db
def test_too_little_data_is_history_only_and_the_defaults_stay(small_minimum):
    # Given a course whose concepts have 60 answers in all (a fit needs 200)
    rng = np.random.default_rng(9)
    course = CourseFactory()
    concept = ConceptFactory(course=course)
    practice(concept, GENERATING["decimals"], 6, rng)

    result = course_bkt_fit(course=course)

    # Then the pooled fit is recorded as history, not in use; the concept is not fitted
    assert (result.pooled.version, result.pooled.in_use) == (1, False)
    assert result.concepts[0].params is None
    assert FittedModel.objects.get(course=course).in_use is False
    # and the defaults keep updating P(known)
    assert bkt_parameters_for_concepts([concept.pk]) == {str(concept.pk): DEFAULT_BKT}


@pytest.mark.django_db
def test_a_course_without_attempts_records_nothing():
    course = CourseFactory()
    ConceptFactory(course=course)

    assert course_bkt_fit(course=course).pooled is None
    assert not FittedModel.objects.filter(course=course).exists()
