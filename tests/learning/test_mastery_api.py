"""Per-concept mastery in GET /api/v1/progress/ and /progress/statistics/: the scheduler's
P(known) and a status that follows the prerequisites (apps/learning/mastery.py)."""

import re
from itertools import pairwise

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.curriculum.models import ConceptPrerequisite
from apps.learning.mastery import concept_status
from apps.learning.models import ProgressSnapshot
from apps.scheduler.models import LearnerConceptState
from apps.scheduler.selectors import next_items
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.helpers import PROGRESS_URL, STATISTICS_URL

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    """Signs → Junctions → Roundabouts, and Parking on its own; mastered at 0.8."""
    course = CourseFactory(title="Driving", mastery_threshold=0.8)
    concepts = {
        name: ConceptFactory(course=course, text=name)
        for name in ("Signs", "Junctions", "Roundabouts", "Parking")
    }
    ConceptPrerequisite.objects.create(
        concept=concepts["Junctions"], prerequisite=concepts["Signs"]
    )
    ConceptPrerequisite.objects.create(
        concept=concepts["Roundabouts"], prerequisite=concepts["Junctions"]
    )
    course.concepts_by_name = concepts
    return course


def knows(learner, concept, p_known: float) -> None:
    LearnerConceptState.objects.update_or_create(
        learner=learner, concept=concept, archived_in=None, defaults={"p_known": p_known}
    )


def by_text(rows: list[dict]) -> dict[str, dict]:
    return {row["text"]: row for row in rows}


def test_prerequisites_not_mastered_lock_a_concept(learner_client, learner, course):
    # Given a learner who has practised Signs a little (P(known) 0.5, under the 0.8 threshold)
    concepts = course.concepts_by_name
    knows(learner, concepts["Signs"], 0.5)

    # When they read their progress
    rows = by_text(learner_client.get(PROGRESS_URL).json()["concepts"])

    # Then every concept of the course is there, with the scheduler's P(known) and a status
    assert list(rows) == ["Junctions", "Parking", "Roundabouts", "Signs"]
    assert rows["Signs"] == {
        "concept": str(concepts["Signs"].pk),
        "text": "Signs",
        "course": str(course.pk),
        "p_known": 0.5,
        "assessed": True,
        "status": "learning",
        "mastery_threshold": 0.8,
        "unmastered_prerequisites": [],
    }
    # Junctions waits for Signs; Roundabouts for Junctions (never practised: BKT's prior 0.2)
    assert rows["Junctions"]["status"] == rows["Roundabouts"]["status"] == "locked"
    assert rows["Junctions"]["unmastered_prerequisites"] == [str(concepts["Signs"].pk)]
    assert (rows["Junctions"]["p_known"], rows["Junctions"]["assessed"]) == (0.2, False)
    # Parking has no prerequisites: open to study
    assert rows["Parking"]["status"] == "learning"


def test_reaching_the_threshold_masters_a_concept_and_unlocks_the_next(
    learner_client, learner, course
):
    # Given Signs exactly at the course's threshold, Junctions just under it
    concepts = course.concepts_by_name
    knows(learner, concepts["Signs"], 0.8)
    knows(learner, concepts["Junctions"], 0.7999)

    # When they read their statistics
    rows = by_text(learner_client.get(STATISTICS_URL).json()["concepts"])

    # Then P(known) ≥ threshold is mastered, and what it guarded opens
    assert rows["Signs"]["status"] == "mastered"
    assert rows["Junctions"]["status"] == "learning"
    assert rows["Roundabouts"]["status"] == "locked"  # Junctions is not mastered yet


def test_a_known_concept_is_mastered_even_behind_an_unmastered_prerequisite(
    learner_client, learner, course
):
    # Given a learner placed high on Junctions whose Signs is still weak
    concepts = course.concepts_by_name
    knows(learner, concepts["Signs"], 0.3)
    knows(learner, concepts["Junctions"], 0.96)

    rows = by_text(learner_client.get(PROGRESS_URL).json()["concepts"])

    # Then mastered wins over locked (and still names the weak prerequisite)
    assert rows["Junctions"]["status"] == "mastered"
    assert rows["Junctions"]["unmastered_prerequisites"] == [str(concepts["Signs"].pk)]
    assert rows["Roundabouts"]["status"] == "learning"  # its prerequisite is mastered


def test_the_threshold_is_the_courses(learner_client, learner):
    # Given two courses with different thresholds and the same P(known) in each
    strict, lenient = CourseFactory(mastery_threshold=0.95), CourseFactory(mastery_threshold=0.6)
    for course in (strict, lenient):
        knows(learner, ConceptFactory(course=course, text="Same"), 0.9)

    rows = learner_client.get(PROGRESS_URL).json()["concepts"]

    status = {row["course"]: row["status"] for row in rows}
    assert status == {str(strict.pk): "learning", str(lenient.pk): "mastered"}


def test_locked_is_what_next_items_holds_back(learner_client, learner, course):
    # Given an atom in Signs (practised, weak) and a new one in Junctions
    concepts = course.concepts_by_name
    signs, junctions = (make_atom("mcq", concept=concepts[n]) for n in ("Signs", "Junctions"))
    knows(learner, concepts["Signs"], 0.5)

    def offered() -> set[str]:
        return {str(item.atom_id) for item in next_items(learner=learner, course=course)}

    # Then while Junctions is locked next items offers none of its new atoms...
    assert (
        by_text(learner_client.get(PROGRESS_URL).json()["concepts"])["Junctions"]["status"]
        == "locked"
    )
    assert str(junctions.pk) not in offered()
    assert str(signs.pk) in offered()

    # ...and once Signs is mastered, both agree Junctions is open
    knows(learner, concepts["Signs"], 0.9)
    assert (
        by_text(learner_client.get(PROGRESS_URL).json()["concepts"])["Junctions"]["status"]
        == "learning"
    )
    assert str(junctions.pk) in offered()


def test_only_the_learners_own_live_knowledge_counts(learner_client, learner, course):
    # Given another learner who mastered Signs, and this learner's reset knowledge
    concepts = course.concepts_by_name
    knows(UserFactory(), concepts["Signs"], 0.99)
    knows(learner, concepts["Parking"], 0.3)
    snapshot = ProgressSnapshot.objects.create(learner=learner)
    LearnerConceptState.objects.create(
        learner=learner, concept=concepts["Signs"], p_known=0.99, archived_in=snapshot
    )

    rows = by_text(learner_client.get(PROGRESS_URL).json()["concepts"])

    assert rows["Signs"]["p_known"] == 0.2  # the prior, not theirs nor the reset one
    assert rows["Signs"]["assessed"] is False
    assert rows["Junctions"]["status"] == "locked"


def test_a_learner_without_knowledge_has_no_concepts(learner_client, course):
    assert learner_client.get(PROGRESS_URL).json()["concepts"] == []
    assert learner_client.get(STATISTICS_URL).json()["concepts"] == []


def test_unpublished_courses_are_left_out(learner_client, learner):
    knows(learner, ConceptFactory(course=CourseFactory(is_published=False)), 0.9)

    assert learner_client.get(PROGRESS_URL).json()["concepts"] == []


def _chain_known_by(learner, length: int) -> None:
    """A course of ``length`` concepts in a prerequisite chain, each at P(known) 0.5."""
    course = CourseFactory()
    chain = [ConceptFactory(course=course) for _ in range(length)]
    for before, after in pairwise(chain):
        ConceptPrerequisite.objects.create(concept=after, prerequisite=before)
    for concept in chain:
        knows(learner, concept, 0.5)


def _mastery_sql(queries) -> list[str]:
    """The statements that read the mastery: the learner's concept states, the course's
    concept graph (two, when not kept yet), the course's priors."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if re.search(r'\b"?(curriculum_concept|scheduler_fittedmodel)\b', q["sql"])
    ]


def test_mastery_reads_take_a_fixed_number_of_queries(learner_client):
    counts = []
    for length in (3, 30):
        # Given a learner knowing a chain of 3, then 30 concepts
        learner = UserFactory()
        learner_client.force_authenticate(learner)
        _chain_known_by(learner, length)
        learner_client.get(PROGRESS_URL)  # the first read of all sets the sync flags up
        cache.clear()  # the course's BKT priors and concept graph are not kept yet

        # When the progress and statistics are read
        with CaptureQueriesContext(connection) as progress:
            rows = learner_client.get(PROGRESS_URL).json()["concepts"]
        with CaptureQueriesContext(connection) as statistics:
            learner_client.get(STATISTICS_URL)

        # Then the mastery is one read of the learner's states, and of the course's graph and
        # priors the first time only (then kept)
        assert len(rows) == length
        assert [row["status"] for row in rows].count("locked") == length - 1
        assert len(_mastery_sql(progress)) == 1 + 2 + 1
        assert len(_mastery_sql(statistics)) == 1
        counts.append((len(progress), len(statistics)))
    # and the counts do not grow with the concepts
    assert counts[0] == counts[1]


def test_the_course_priors_are_read_once_per_course_not_per_concept(learner_client, monkeypatch):
    """Each read is a cache round trip with Redis: a 500-concept course read them 500 times."""
    from apps.learning import selectors

    learner = UserFactory()
    learner_client.force_authenticate(learner)
    _chain_known_by(learner, 12)
    reads = []
    original = selectors.bkt_priors_for_course
    monkeypatch.setattr(
        selectors, "bkt_priors_for_course", lambda course: reads.append(course) or original(course)
    )

    assert len(learner_client.get(PROGRESS_URL).json()["concepts"]) == 12
    assert len(reads) == 1


def test_the_status_rule():
    knowledge = {"a": 0.8, "b": 0.79}
    assert concept_status(0.8, [], knowledge, 0.8) == ("mastered", [])
    assert concept_status(0.1, ["a"], knowledge, 0.8) == ("learning", [])
    assert concept_status(0.1, ["a", "b"], knowledge, 0.8) == ("locked", ["b"])
    assert concept_status(0.9, ["b"], knowledge, 0.8) == ("mastered", ["b"])
