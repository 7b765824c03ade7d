from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.cache_versions import cache_version_bump
from apps.core.services import audit_record

from .graph import find_cycle
from .models import Concept, ConceptPrerequisite
from .structure import VERSION as GRAPH_VERSION


class PrerequisiteCycleError(ValidationError):
    """Raised when prerequisite edges would form a cycle; the message names the cycle."""

    def __init__(self, cycle_names: list[str]):
        self.cycle_names = cycle_names
        super().__init__(
            "These prerequisites would form a cycle: %(cycle)s.",
            code="prerequisite_cycle",
            params={"cycle": " → ".join(cycle_names)},
        )


def prerequisite_cycle_check(*, concept: Concept, prerequisite_ids: Iterable) -> None:
    """Raise PrerequisiteCycleError if giving ``concept`` exactly these prerequisites (replacing
    its current ones) would make the course's prerequisite graph cyclic."""
    prerequisite_ids = set(prerequisite_ids)
    if concept.pk in prerequisite_ids:
        raise PrerequisiteCycleError([concept.text, concept.text])
    other_edges = ConceptPrerequisite.objects.exclude(concept=concept).values_list(
        "prerequisite_id", "concept_id"
    )
    edges = [*other_edges, *((pid, concept.pk) for pid in prerequisite_ids)]
    cycle = find_cycle(edges)
    if cycle:
        names = dict(Concept.objects.filter(pk__in=cycle).values_list("pk", "text"))
        raise PrerequisiteCycleError([names[pk] for pk in cycle])


def concept_prerequisites_check(*, concept: Concept, prerequisites: Iterable[Concept]) -> None:
    """The rules a set of prerequisites must meet: the same course as ``concept``, and no
    cycle (a concept not saved yet has no dependents, so it cannot close one). Forms call it
    to show the error; ``concept_prerequisites_set`` calls it again under its lock."""
    prerequisites = list(prerequisites)
    foreign = [p.text for p in prerequisites if p.course_id != concept.course_id]
    if foreign:
        raise ValidationError(
            "Prerequisites must belong to the same course: %(names)s.",
            code="prerequisite_other_course",
            params={"names": ", ".join(foreign)},
        )
    if not concept._state.adding:
        prerequisite_cycle_check(concept=concept, prerequisite_ids=[p.pk for p in prerequisites])


def concept_prerequisites_set(
    *, concept: Concept, prerequisites: Iterable[Concept], by=None, source: str = "api"
) -> Concept:
    """Replace ``concept``'s prerequisites, rejecting cycles and cross-course links. A change
    is audited with the edges added and removed."""
    prerequisites = list(prerequisites)
    with transaction.atomic():
        # Lock the course's edges so two editors cannot each add half of a cycle.
        list(
            ConceptPrerequisite.objects.select_for_update()
            .filter(concept__course_id=concept.course_id)
            .order_by("pk")
        )
        concept_prerequisites_check(concept=concept, prerequisites=prerequisites)
        existing = set(
            ConceptPrerequisite.objects.filter(concept=concept).values_list(
                "prerequisite_id", flat=True
            )
        )
        wanted = {p.pk for p in prerequisites}
        removed, added = existing - wanted, wanted - existing
        ConceptPrerequisite.objects.filter(concept=concept, prerequisite_id__in=removed).delete()
        ConceptPrerequisite.objects.bulk_create(
            ConceptPrerequisite(concept=concept, prerequisite_id=pk) for pk in added
        )
        if added or removed:
            # bulk_create sends no post_save: the kept concept graphs must still go
            cache_version_bump(GRAPH_VERSION)
            audit_record(actor=by, source=source, action="prerequisites_set", target=concept,
                         details={"added": sorted(map(str, added)),
                                  "removed": sorted(map(str, removed))})  # fmt: skip
    return concept


def concept_prerequisite_add(*, concept: Concept, prerequisite: Concept) -> ConceptPrerequisite:
    """Add one edge (``prerequisite`` before ``concept``); cycles are rejected by name."""
    current = list(concept.prerequisites.all())
    if prerequisite not in current:
        concept_prerequisites_set(concept=concept, prerequisites=[*current, prerequisite])
    return ConceptPrerequisite.objects.get(concept=concept, prerequisite=prerequisite)
