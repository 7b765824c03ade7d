"""Live concept-state updates: BKT with the stored parameters (the concept's own, else the
course's pooled prior, else the defaults) looked up once per request, and the three bugs of
the same code (3PL θ step, correct_attempts, last_practised_at and half_life_days)."""

import math
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.learning.services.attempts import AttemptInput, attempts_ingest
from apps.scheduler.algorithms.bkt import BKTParams, bkt_params_as_dict, bkt_update
from apps.scheduler.algorithms.irt import fisher_information, p_correct
from apps.scheduler.bkt_fitting import (
    BKT_MIN_ATTEMPTS,
    DEFAULT_BKT,
    bkt_parameters_cache_clear,
    bkt_parameters_for_concepts,
)
from apps.scheduler.fitted import fitted_model_record
from apps.scheduler.hlr_training import hlr_current_weights
from apps.scheduler.models import LearnerConceptState
from apps.scheduler.services import concept_state_observe, concept_states_update
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.helpers import ATTEMPTS_URL, CORRECT_MCQ, WRONG_MCQ, attempt_payload

pytestmark = pytest.mark.django_db

SLIPPERY = BKTParams(p_init=0.2, p_transit=0.15, p_guess=0.2, p_slip=0.3)  # defaults but slip


def fit_store(course, params: BKTParams, concept=None, samples=BKT_MIN_ATTEMPTS):
    row = fitted_model_record(
        kind="bkt", course=course, concept=concept, parameters=bkt_params_as_dict(params),
        samples=samples, minimum_samples=BKT_MIN_ATTEMPTS,
    )  # fmt: skip
    bkt_parameters_cache_clear(course.pk)
    return row


def answer(client, atom, response) -> None:
    result = client.post(ATTEMPTS_URL, attempt_payload(atom, response), format="json")
    assert result.status_code == 201, result.content


def concept_state(learner, concept) -> LearnerConceptState:
    return LearnerConceptState.objects.get(
        learner=learner, concept=concept, archived_in__isnull=True
    )


def replay(params: BKTParams, answers: list[bool]) -> float:
    p = params.p_init
    for correct in answers:
        p = bkt_update(p, correct, params)
    return p


# --- the stored parameters -------------------------------------------------------------------


def test_a_fitted_slip_of_0_3_moves_p_known_differently_from_the_defaults(learner_client, learner):
    # Given two concepts, one in a course with default BKT and one whose concept was fitted
    # with slip 0.3 (its other parameters the defaults)
    plain = ConceptFactory(course=CourseFactory())
    fitted_course = CourseFactory()
    slippery = ConceptFactory(course=fitted_course)
    fit_store(fitted_course, SLIPPERY, concept=slippery)
    atoms = {plain: make_atom("mcq", concept=plain), slippery: make_atom("mcq", concept=slippery)}

    # When the learner answers both the same way: right, wrong, wrong
    answers = [True, False, False]
    for correct in answers:
        for atom in atoms.values():
            answer(learner_client, atom, CORRECT_MCQ if correct else WRONG_MCQ)

    # Then each follows BKT with its own parameters: a slip of 0.3 makes wrong answers weaker
    # evidence, so P(known) falls less
    with_defaults = concept_state(learner, plain).p_known
    with_fit = concept_state(learner, slippery).p_known
    assert with_defaults == pytest.approx(replay(DEFAULT_BKT, answers))
    assert with_fit == pytest.approx(replay(SLIPPERY, answers))
    assert with_fit > with_defaults + 0.05


def test_a_sparse_concept_uses_the_courses_pooled_prior(learner_client, learner):
    # Given a course with a pooled prior, one concept with its own fit and one without
    course = CourseFactory()
    pooled = BKTParams(p_init=0.5, p_transit=0.1, p_guess=0.25, p_slip=0.05)
    own = BKTParams(p_init=0.1, p_transit=0.3, p_guess=0.1, p_slip=0.2)
    fitted, sparse = ConceptFactory(course=course), ConceptFactory(course=course)
    fit_store(course, pooled)
    fit_store(course, own, concept=fitted)

    # When the learner answers one atom of each right
    answer(learner_client, make_atom("mcq", concept=fitted), CORRECT_MCQ)
    answer(learner_client, make_atom("mcq", concept=sparse), CORRECT_MCQ)

    # Then the sparse concept starts from the pooled prior and moves by it; the other by its own
    assert concept_state(learner, sparse).p_known == pytest.approx(replay(pooled, [True]))
    assert concept_state(learner, fitted).p_known == pytest.approx(replay(own, [True]))


def test_a_version_fitted_on_too_little_data_is_not_used():
    course = CourseFactory()
    concept = ConceptFactory(course=course)
    fit_store(course, SLIPPERY, concept=concept, samples=BKT_MIN_ATTEMPTS - 1)
    fit_store(course, SLIPPERY, samples=BKT_MIN_ATTEMPTS - 1)

    assert bkt_parameters_for_concepts([concept.pk]) == {str(concept.pk): DEFAULT_BKT}


def test_a_new_version_takes_over_at_once_and_an_invalid_one_is_skipped(learner_client, learner):
    course = CourseFactory()
    concept = ConceptFactory(course=course)
    atom = make_atom("mcq", concept=concept)
    fit_store(course, DEFAULT_BKT, concept=concept)
    answer(learner_client, atom, WRONG_MCQ)  # the lookup is cached now
    first = concept_state(learner, concept).p_known

    # When a new version is recorded (through the cache)
    fit_store(course, SLIPPERY, concept=concept)
    answer(learner_client, atom, WRONG_MCQ)

    # Then the next answer uses it
    assert first == pytest.approx(replay(DEFAULT_BKT, [False]))
    assert concept_state(learner, concept).p_known == pytest.approx(
        bkt_update(first, False, SLIPPERY)
    )
    # And a stored version that is not a valid BKT model (guess ≥ 0.5) is skipped: the
    # version before it stays in use
    fitted_model_record(
        kind="bkt", course=course, concept=concept, samples=BKT_MIN_ATTEMPTS,
        minimum_samples=BKT_MIN_ATTEMPTS,
        parameters={"prior": 0.2, "learn": 0.1, "guess": 0.7, "slip": 0.1},
    )  # fmt: skip
    bkt_parameters_cache_clear(course.pk)
    assert bkt_parameters_for_concepts([concept.pk])[str(concept.pk)] == SLIPPERY


def test_the_lookup_is_one_per_batch_not_one_per_attempt():
    # Given three fitted concepts in two courses, their parameters already cached
    courses = [CourseFactory(), CourseFactory()]
    concepts = [ConceptFactory(course=courses[i % 2]) for i in range(3)]
    for concept in concepts:
        fit_store(concept.course, SLIPPERY, concept=concept)
    bkt_parameters_for_concepts([c.pk for c in concepts])
    hlr_current_weights()  # cached too

    def queries(observations) -> int:
        learner = UserFactory()
        with CaptureQueriesContext(connection) as captured:
            concept_states_update(learner=learner, observations=observations)
        return len(captured)

    # When one learner answers once and another thirty times across the three concepts
    one = queries([(concepts[0].pk, True, 1.0, 0.0, 0.0)])
    many = queries([(concepts[i % 3].pk, i % 2 == 0, 1.0, 0.0, 0.0) for i in range(30)])

    # Then both cost the same number of queries (lock the states, concepts' courses, insert)
    assert one == many <= 4


# --- bug: θ moved by the 2PL score and information with a 3PL probability -------------------


@pytest.mark.parametrize("correct", [True, False])
@pytest.mark.parametrize(("a", "b", "c"), [(1.4, 0.2, 0.25), (0.8, -1.0, 0.0), (2.0, 1.5, 0.2)])
def test_theta_takes_a_fisher_scoring_step_of_the_3pl(correct, a, b, c):
    # Given a concept state at θ = 0.3 with SE 0.8, and a 3PL item
    row = LearnerConceptState(p_known=0.4, theta=0.3, theta_se=0.8)

    concept_state_observe(row, correct, a, b, c)

    # Then θ moves by the 3PL score over the posterior information (prior 1/SE² + the item's
    # Fisher information, as irt.py computes them), and the SE shrinks accordingly
    p = float(p_correct(0.3, a, b, c))
    score = a * (float(correct) - p) * (p - c) / (p * (1 - c))
    information = 1 / 0.8**2 + float(fisher_information(0.3, a, b, c))
    assert row.theta == pytest.approx(0.3 + score / information, abs=1e-12)
    assert row.theta_se == pytest.approx(1 / math.sqrt(information), abs=1e-12)


# --- bug: correct_attempts was left out of the bulk update -----------------------------------


def test_correct_attempts_counts_every_right_answer(learner_client, learner):
    concept = ConceptFactory()
    atom = make_atom("mcq", concept=concept)

    for response in [CORRECT_MCQ, CORRECT_MCQ, CORRECT_MCQ, WRONG_MCQ]:
        answer(learner_client, atom, response)

    state = concept_state(learner, concept)
    assert (state.attempts, state.correct_attempts) == (4, 3)


# --- bug: last_practised_at and half_life_days were never set by live attempts --------------


def test_every_attempt_sets_last_practised_at_and_the_half_life(learner_client, learner):
    # Given no trained HLR model: the half-life follows the seed's cold-start rule on the
    # concept's accuracy (≥ 0.85 → 7 days, ≥ 0.60 → 3, else 1), as the legacy backfill sets it
    concept = ConceptFactory()
    atom = make_atom("mcq", concept=concept)
    seen = []
    for response in [CORRECT_MCQ, WRONG_MCQ, CORRECT_MCQ, WRONG_MCQ]:
        before = timezone.now()
        answer(learner_client, atom, response)
        state = concept_state(learner, concept)
        assert before <= state.last_practised_at <= timezone.now()
        seen.append((state.half_life_days, state.last_practised_at))

    # Then every attempt stored both: 1/1 right → 7 days, 1/2 → 1, 2/3 → 3, 2/4 → 1
    assert [half_life for half_life, _ in seen] == [7.0, 1.0, 3.0, 1.0]
    assert [at for _, at in seen] == sorted(at for _, at in seen)


def test_last_practised_at_is_the_latest_answer_time_given():
    learner, concept = UserFactory(), ConceptFactory()
    monday = timezone.now().replace(microsecond=0) - timedelta(days=7)
    wednesday = monday + timedelta(days=2)

    concept_states_update(learner=learner, observations=[
        (concept.pk, True, 1.0, 0.0, 0.0, monday),
        (concept.pk, True, 1.0, 0.0, 0.0, wednesday),
    ])  # fmt: skip
    # an offline answer from Tuesday arrives late: it counts, but does not move the date back
    concept_states_update(
        learner=learner, observations=[(concept.pk, False, 1.0, 0.0, 0.0, monday + timedelta(1))]
    )

    state = concept_state(learner, concept)
    assert (state.attempts, state.correct_attempts) == (3, 2)
    assert state.last_practised_at == wednesday
    assert state.half_life_days == 3.0


def test_an_offline_answer_dates_the_concept_by_when_it_was_answered():
    learner, concept = UserFactory(), ConceptFactory()
    atom = make_atom("mcq", concept=concept)
    three_days_ago = timezone.now().replace(microsecond=0) - timedelta(days=3)

    attempts_ingest(learner=learner, inputs=[AttemptInput(
        uuid.uuid4(), atom.pk, CORRECT_MCQ, 900, answered_at=three_days_ago)])  # fmt: skip

    assert concept_state(learner, concept).last_practised_at == three_days_ago
