"""The course's concept graph kept per process (apps/curriculum/structure.py) is never stale:
every door that changes concepts or their prerequisites is seen on the next call."""

import pytest

from apps.curriculum.services import concept_prerequisites_set
from apps.curriculum.structure import course_graph
from tests.curriculum.factories import ConceptFactory, CourseFactory

pytestmark = pytest.mark.django_db


def test_a_kept_graph_sees_every_change_on_the_next_call(django_assert_num_queries):
    course = CourseFactory()
    first, second = ConceptFactory(course=course), ConceptFactory(course=course)
    course_graph(course.pk)
    with django_assert_num_queries(0):  # kept: no statement
        assert set(course_graph(course.pk).texts) == {first.pk, second.pk}

    # a prerequisite set through the service (bulk writes)
    concept_prerequisites_set(concept=second, prerequisites=[first])
    assert course_graph(course.pk).prerequisites == {second.pk: [first.pk]}

    # a concept added, and one renamed through save() (the admin's door)
    third = ConceptFactory(course=course)
    second.text = "Renamed"
    second.save()
    graph = course_graph(course.pk)
    assert set(graph.texts) == {first.pk, second.pk, third.pk}
    assert graph.texts[second.pk] == "Renamed"

    # a concept deleted, with its links (a cascade)
    first.delete()
    graph = course_graph(course.pk)
    assert set(graph.texts) == {second.pk, third.pk}
    assert graph.prerequisites == {}


def test_another_courses_graph_is_its_own():
    course, other = CourseFactory(), CourseFactory()
    mine = ConceptFactory(course=course)
    ConceptFactory(course=other)
    assert set(course_graph(course.pk).texts) == {mine.pk}
