import pytest

from apps.scheduler.fitted import fitted_model_record, fitted_parameters
from tests.curriculum.factories import ConceptFactory, CourseFactory

pytestmark = pytest.mark.django_db


def test_versions_count_up_and_only_a_fit_on_enough_data_is_used():
    course = CourseFactory()
    concept = ConceptFactory(course=course)
    assert fitted_parameters(kind="bkt", course=course, concept=concept) is None

    bkt = {"kind": "bkt", "course": course, "minimum_samples": 100}
    first = fitted_model_record(**bkt, concept=concept, parameters={"slip": 0.1}, samples=500)
    small = fitted_model_record(**bkt, concept=concept, parameters={"slip": 0.4}, samples=20)
    pooled = fitted_model_record(kind="bkt", course=course, parameters={"slip": 0.2},
                                 samples=900, minimum_samples=100)  # fmt: skip

    assert (first.version, small.version, pooled.version) == (1, 2, 1)
    assert (first.in_use, small.in_use) == (True, False)
    # the small fit is history: the concept keeps the first, the course its pooled prior
    assert fitted_parameters(kind="bkt", course=course, concept=concept) == {"slip": 0.1}
    assert fitted_parameters(kind="bkt", course=course) == {"slip": 0.2}
    assert fitted_parameters(kind="fsrs", course=course) is None


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="Unknown fitted model kind"):
        fitted_model_record(kind="elo", course=CourseFactory(), parameters={}, samples=1,
                            minimum_samples=1)  # fmt: skip
