"""Concepts a learner has not practised yet count at their fitted BKT prior when next items
are chosen (the mastery gap and the prerequisite gate), not at the default 0.2."""

import pytest

from apps.content.models import LearningAtom
from apps.curriculum.services import concept_prerequisites_set
from apps.scheduler.fitted import fitted_model_record
from apps.scheduler.selectors import next_items
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory

pytestmark = pytest.mark.django_db

POOLED_KNOWN = {"prior": 0.9, "learn": 0.2, "guess": 0.2, "slip": 0.1}


def gated_course():
    course = CourseFactory(mastery_threshold=0.8)
    basics, advanced = ConceptFactory(course=course), ConceptFactory(course=course)
    concept_prerequisites_set(concept=advanced, prerequisites=[basics])
    make_atom("true_false", concept=basics, title="Basic")
    make_atom("true_false", concept=advanced, title="Advanced")
    return course


def offered(course) -> set[str]:
    ids = [item.atom_id for item in next_items(learner=UserFactory(), course=course)]
    return set(LearningAtom.objects.filter(pk__in=ids).values_list("title", flat=True))


def test_with_the_default_prior_the_advanced_concept_waits_for_its_prerequisite():
    assert offered(gated_course()) == {"Basic"}


def test_a_fitted_pooled_prior_above_the_threshold_opens_it():
    course = gated_course()
    fitted_model_record(kind="bkt", course=course, parameters=POOLED_KNOWN, samples=5000,
                        minimum_samples=500)  # fmt: skip

    assert offered(course) == {"Basic", "Advanced"}
