"""Each course's row and concept graph, kept per process: its settings, its concepts' texts
and the prerequisite links between them. Next items, answers and progress read them on every
call, and they change only when staff edit the curriculum, so a call pays one cache read
instead of queries.

Never stale: the copy is keyed by the ``curriculum.structure`` cache version, which every save
or delete of a course, concept or prerequisite link bumps (model signals, whichever door made
the change: admin, API, services, cascades) and which ``concept_prerequisites_set`` bumps for
its bulk writes. Writes that bypass both (bulk inserts and ``QuerySet.update``) are picked up
within ``MAX_AGE_S``, and so are changes made in another process under the embedded
local-memory cache (each process has its own version there: a management command's edit
reaches the dev server within a minute; the admin, served by that process, at once).
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models.signals import post_delete, post_save

from apps.core.cache_versions import KeptByVersion, cache_version_bump

from .models import Concept, ConceptPrerequisite, Course

VERSION = "curriculum.structure"
MAX_AGE_S = 60.0
MAX_COURSES = 64  # per process; the least recently used course goes first

_hot = KeptByVersion(VERSION, MAX_COURSES)  # course id → CourseGraph


@dataclass(frozen=True)
class CourseGraph:
    course: Course | None  # None: no such course. Shared by the process's requests: read only
    texts: dict  # concept id → its text, for every concept of the course
    prerequisites: dict  # concept id → [its prerequisites' ids], for those that have any


def course_graph(course_id) -> CourseGraph:
    """The course's row and concept graph: this process's copy when its version is current
    (one cache read), else three narrow queries."""
    return _hot.get(course_id, course_graph_build, MAX_AGE_S)


def course_graph_build(course_id) -> CourseGraph:
    prerequisites: dict = defaultdict(list)
    for concept_id, prerequisite_id in (
        ConceptPrerequisite.objects.filter(concept__course_id=course_id)
        .order_by()  # the default ordering would join both concepts and the course
        .values_list("concept_id", "prerequisite_id")
    ):
        prerequisites[concept_id].append(prerequisite_id)
    texts = dict(Concept.objects.filter(course_id=course_id).order_by().values_list("pk", "text"))
    course = Course.objects.filter(pk=course_id).first()
    return CourseGraph(course=course, texts=texts, prerequisites=dict(prerequisites))


def curriculum_structure_changed(**_kwargs) -> None:
    cache_version_bump(VERSION)


for _model in (Course, Concept, ConceptPrerequisite):
    post_save.connect(curriculum_structure_changed, sender=_model, dispatch_uid=f"graph-{_model}")
    post_delete.connect(
        curriculum_structure_changed, sender=_model, dispatch_uid=f"graph-del-{_model}"
    )
