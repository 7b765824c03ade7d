"""The legacy backfill replays concept states with the same BKT parameters as live updates."""

import pytest

from apps.scheduler.algorithms.bkt import BKTParams, bkt_params_as_dict, bkt_update
from apps.scheduler.bkt_fitting import BKT_MIN_ATTEMPTS, DEFAULT_BKT
from apps.scheduler.fitted import fitted_model_record
from apps.scheduler.models import LearnerConceptState
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.factories import AttemptFactory

# legacy_sync: skipped once the migration app is switched off
pytestmark = [pytest.mark.django_db, pytest.mark.legacy_sync]

SLIPPERY = BKTParams(p_init=0.35, p_transit=0.15, p_guess=0.2, p_slip=0.3)
POOLED = BKTParams(p_init=0.5, p_transit=0.05, p_guess=0.1, p_slip=0.05)


def replay(params: BKTParams, answers: list[bool]) -> float:
    p = params.p_init
    for correct in answers:
        p = bkt_update(p, correct, params)
    return p


def test_backfilled_concept_states_use_the_fitted_parameters_or_the_pooled_prior():
    from apps.legacy_sync.backfill.learner_states import LearnerStates

    # Given a course with a pooled prior and one concept fitted with slip 0.3, another course
    # with nothing fitted, and a learner's history on one atom of each concept
    course, plain_course = CourseFactory(), CourseFactory()
    fitted, sparse = ConceptFactory(course=course), ConceptFactory(course=course)
    plain = ConceptFactory(course=plain_course)
    for concept, params in ((fitted, SLIPPERY), (None, POOLED)):
        fitted_model_record(
            kind="bkt", course=course, concept=concept, parameters=bkt_params_as_dict(params),
            samples=BKT_MIN_ATTEMPTS, minimum_samples=BKT_MIN_ATTEMPTS,
        )  # fmt: skip
    learner = UserFactory()
    answers = [True, False, False, True]
    for concept in (fitted, sparse, plain):
        atom = make_atom("mcq", concept=concept)
        for correct in answers:
            AttemptFactory(atom=atom, learner=learner, correct=correct)

    # When the backfill stage builds the learner's states from that history
    LearnerStates().migrate([{"id": str(learner.pk)}])

    # Then each concept's P(known) is what live updates would have given
    states = {s.concept_id: s for s in LearnerConceptState.objects.filter(learner=learner)}
    assert states[fitted.pk].p_known == pytest.approx(replay(SLIPPERY, answers))
    assert states[sparse.pk].p_known == pytest.approx(replay(POOLED, answers))
    assert states[plain.pk].p_known == pytest.approx(replay(DEFAULT_BKT, answers))
    assert states[fitted.pk].correct_attempts == 2
