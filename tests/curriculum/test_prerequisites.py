import itertools

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from hypothesis import given
from hypothesis import strategies as st

from apps.curriculum.graph import find_cycle, reachable_from
from apps.curriculum.models import ConceptPrerequisite
from apps.curriculum.services import (
    PrerequisiteCycleError,
    concept_prerequisite_add,
    concept_prerequisites_set,
)
from tests.curriculum.factories import ConceptFactory, CourseFactory


def test_find_cycle_returns_the_cycle_in_order():
    assert find_cycle([("a", "b"), ("b", "c"), ("c", "a"), ("x", "a")]) in (
        ["a", "b", "c", "a"],
        ["b", "c", "a", "b"],
        ["c", "a", "b", "c"],
    )
    assert find_cycle([("a", "b"), ("b", "c"), ("a", "c")]) is None


@given(st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), max_size=30))
def test_find_cycle_agrees_with_topological_sortability(edges):
    from graphlib import CycleError, TopologicalSorter

    sorter = TopologicalSorter()
    for before, after in edges:
        sorter.add(after, before)
    try:
        list(sorter.static_order())
        acyclic = True
    except CycleError:
        acyclic = False
    cycle = find_cycle(edges)
    assert (cycle is None) == acyclic
    if cycle:
        assert cycle[0] == cycle[-1]
        assert all((a, b) in edges for a, b in itertools.pairwise(cycle))


def test_reachable_from_follows_edges():
    assert reachable_from({"a"}, [("a", "b"), ("b", "c"), ("x", "y")]) == {"a", "b", "c"}


@pytest.mark.django_db
def test_adding_a_cycle_is_rejected_with_the_cycle_named():
    course = CourseFactory()
    counting, adding, multiplying = (
        ConceptFactory(course=course, text=name) for name in ("Counting", "Adding", "Multiplying")
    )
    concept_prerequisite_add(concept=adding, prerequisite=counting)
    concept_prerequisite_add(concept=multiplying, prerequisite=adding)

    with pytest.raises(PrerequisiteCycleError) as excinfo:
        concept_prerequisite_add(concept=counting, prerequisite=multiplying)

    message = excinfo.value.messages[0]
    assert "Counting" in message and "Adding" in message and "Multiplying" in message
    assert "→" in message
    assert ConceptPrerequisite.objects.count() == 2  # nothing half-written


@pytest.mark.django_db
def test_self_prerequisite_is_a_cycle_and_the_database_refuses_it_too():
    concept = ConceptFactory(text="Loop")

    with pytest.raises(PrerequisiteCycleError):
        concept_prerequisite_add(concept=concept, prerequisite=concept)
    with pytest.raises(IntegrityError), transaction.atomic():
        ConceptPrerequisite.objects.create(concept=concept, prerequisite=concept)


@pytest.mark.django_db
def test_prerequisites_must_share_the_course():
    concept = ConceptFactory()
    stranger = ConceptFactory(text="From elsewhere")

    with pytest.raises(ValidationError) as excinfo:
        concept_prerequisites_set(concept=concept, prerequisites=[stranger])

    assert "From elsewhere" in str(excinfo.value)


@pytest.mark.django_db
def test_setting_prerequisites_replaces_them():
    course = CourseFactory()
    a, b, c = (ConceptFactory(course=course) for _ in range(3))
    concept_prerequisites_set(concept=c, prerequisites=[a, b])

    concept_prerequisites_set(concept=c, prerequisites=[b])

    assert list(c.prerequisites.all()) == [b]
