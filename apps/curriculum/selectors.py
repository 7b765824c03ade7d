from dataclasses import dataclass, field

from django.db.models import Count

from .graph import reachable_from
from .models import Concept, ConceptPrerequisite, Course


@dataclass
class CurriculumReport:
    """Problems an editor should fix before learners meet the course."""

    orphans: list[Concept] = field(default_factory=list)  # in no unit: learners never meet them
    unreachable: list[Concept] = field(default_factory=list)  # need an orphan first
    without_atoms: list[Concept] = field(default_factory=list)  # nothing to practise

    @property
    def is_clean(self) -> bool:
        return not (self.orphans or self.unreachable or self.without_atoms)


def curriculum_report(*, course: Course) -> CurriculumReport:
    concepts = list(
        Concept.objects.filter(course=course).annotate(
            unit_count=Count("units", distinct=True),
            atom_count=Count("atom_weights", distinct=True),
        )
    )
    orphan_ids = {c.pk for c in concepts if c.unit_count == 0}
    edges = ConceptPrerequisite.objects.filter(concept__course=course).values_list(
        "prerequisite_id", "concept_id"
    )
    # A concept is unreachable when it (transitively) depends on a concept no unit teaches.
    blocked = reachable_from(orphan_ids, edges) - orphan_ids
    return CurriculumReport(
        orphans=[c for c in concepts if c.pk in orphan_ids],
        unreachable=[c for c in concepts if c.pk in blocked],
        without_atoms=[c for c in concepts if c.atom_count == 0],
    )
