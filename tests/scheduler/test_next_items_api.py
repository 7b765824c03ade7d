"""GET /api/v1/scheduler/next/: what a learner should study next in a course."""

import uuid
from datetime import timedelta
from itertools import pairwise

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.content.atom_types import atom_type_keys, get_atom_type
from apps.content.services import (
    ConceptWeightInput,
    atom_create,
    atom_transition,
    atom_update,
)
from apps.curriculum.services import concept_prerequisites_set
from apps.scheduler.models import LearnerAtomState, LearnerConceptState
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory, UnitFactory
from tests.learning.helpers import (
    ATTEMPTS_URL,
    CORRECT_MCQ,
    SESSIONS_URL,
    WRONG_MCQ,
    attempt_payload,
    superuser,
)

pytestmark = pytest.mark.django_db

NEXT_URL = "/api/v1/scheduler/next/"
ANSWER_KEYS = {"is_correct", "feedback", "accepted", "correct_order"}


def next_items(client, course=None, **params):
    query = {k: str(v) for k, v in params.items() if v is not None}
    if course is not None:
        query["course"] = str(getattr(course, "pk", course))
    return client.get(NEXT_URL, query)


def items_of(client, course, **params) -> list[dict]:
    response = next_items(client, course, **params)
    assert response.status_code == 200, response.content
    return response.json()["items"]


def ids_of(items) -> list[str]:
    return [item["atom"]["id"] for item in items]


def answer(client, atom, response=None, **extra):
    result = client.post(ATTEMPTS_URL, attempt_payload(atom, response, **extra), format="json")
    assert result.status_code == 201, result.content
    return result.json()


def make_due(learner, atom, ago: timedelta) -> None:
    """Move the learner's live state for ``atom`` so it fell due ``ago`` before now."""
    updated = LearnerAtomState.objects.filter(
        learner=learner, atom=atom, archived_in__isnull=True
    ).update(due_at=timezone.now() - ago)
    assert updated == 1


def keys_in(value) -> set:
    """Every dict key anywhere in a JSON value."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_in(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v)}
    return set()


def course_with_concept(**course_fields):
    course = CourseFactory(**course_fields)
    unit = UnitFactory(course=course)
    return course, ConceptFactory(course=course, units=[unit])


# --- what is offered -----------------------------------------------------------------------


def test_only_published_atoms_of_the_course_are_offered_without_answers(learner_client, learner):
    # Given a course with one published atom of every type...
    course, concept = course_with_concept()
    published = {str(make_atom(kind, concept=concept).pk) for kind in atom_type_keys()}
    # ...a draft that was never published, an atom answered and then archived...
    make_atom("mcq", concept=concept, status="draft")
    archived = make_atom("mcq", concept=concept)
    answer(learner_client, archived, CORRECT_MCQ)
    make_due(learner, archived, timedelta(days=3))
    atom_transition(atom=archived, action="archive", by=superuser(), source="admin")
    # ...and a published atom of another course
    make_atom("mcq", concept=ConceptFactory(course=CourseFactory()))

    # When the learner asks for as many next items as allowed
    items = items_of(learner_client, course, limit=50)

    # Then exactly the course's published atoms come back, each rendered without its answer
    assert set(ids_of(items)) == published
    assert len(items) == len(published)
    assert not keys_in(items) & ANSWER_KEYS
    for item in items:
        assert {"id", "atom_type", "concepts"} <= set(item["atom"])
        assert item["atom"]["concepts"] == [str(concept.pk)]
        assert isinstance(item["reason"], str)
        assert isinstance(item["score"], float)


def test_a_published_atom_being_re_edited_is_still_offered_as_published(learner_client):
    # Given a published atom that an editor has taken back to draft by editing it
    course, concept = course_with_concept()
    atom = make_atom("mcq", concept=concept)
    atom = atom_update(atom=atom, by=superuser(), title="Being reworded")
    assert atom.status == "draft"

    # When the learner asks for next items
    items = items_of(learner_client, course)

    # Then the atom is offered, rendered from its published revision
    assert ids_of(items) == [str(atom.pk)]
    assert items[0]["atom"]["title"] == "Multiple choice example"
    assert items[0]["atom"]["revision"] == 1


def test_a_course_without_atoms_gives_an_empty_list(learner_client):
    course, _ = course_with_concept()
    assert items_of(learner_client, course) == []


# --- prerequisites -------------------------------------------------------------------------


def prerequisite_course():
    """Concept B requires A; two mcqs each; mastery threshold 0.8."""
    course = CourseFactory(mastery_threshold=0.8)
    a, b = ConceptFactory(course=course, text="A"), ConceptFactory(course=course, text="B")
    concept_prerequisites_set(concept=b, prerequisites=[a])
    a_atoms = [make_atom("mcq", concept=a) for _ in range(2)]
    b_atoms = [make_atom("mcq", concept=b) for _ in range(2)]
    return course, a, b, a_atoms, b_atoms


def test_a_new_learner_gets_only_atoms_whose_prerequisites_are_met(learner_client):
    # Given B requires A, and a learner who has never practised
    course, _a, _b, a_atoms, _b_atoms = prerequisite_course()

    # When they ask for next items
    items = items_of(learner_client, course)

    # Then A's atoms are offered as new and none of B's
    assert set(ids_of(items)) == {str(atom.pk) for atom in a_atoms}
    assert all(item["reason"].startswith("new") for item in items)
    assert {item["reason"] for item in items} == {"new: first steps in this concept"}


@pytest.mark.parametrize(("p_known", "unlocked"), [(0.79, False), (0.8, True), (0.95, True)])
def test_a_concept_unlocks_when_its_prerequisite_reaches_the_mastery_threshold(
    learner_client, learner, p_known, unlocked
):
    # Given B requires A and the learner's P(known) of A is set
    course, a, _b, _a_atoms, b_atoms = prerequisite_course()
    LearnerConceptState.objects.create(learner=learner, concept=a, p_known=p_known)

    # When they ask for next items
    items = items_of(learner_client, course)

    # Then B's atoms come only at or above the threshold, as "prerequisites mastered"
    b_items = [item for item in items if item["atom"]["id"] in {str(x.pk) for x in b_atoms}]
    if unlocked:
        assert len(b_items) == 2
        assert {item["reason"] for item in b_items} == {"new: prerequisites mastered"}
    else:
        assert b_items == []


@pytest.mark.parametrize(("mastered", "unlocked"), [(("A",), False), (("A", "B"), True)])
def test_a_concept_with_two_prerequisites_unlocks_when_both_are_mastered(
    learner_client, learner, mastered, unlocked
):
    # Given C requires both A and B, and the learner has mastered some of them
    course = CourseFactory(mastery_threshold=0.8)
    concepts = {name: ConceptFactory(course=course, text=name) for name in "ABC"}
    concept_prerequisites_set(concept=concepts["C"], prerequisites=[concepts["A"], concepts["B"]])
    c_atom = make_atom("mcq", concept=concepts["C"])
    for name in mastered:
        LearnerConceptState.objects.create(learner=learner, concept=concepts[name], p_known=0.9)

    # When they ask for next items
    items = items_of(learner_client, course)

    # Then C's atom comes, as "prerequisites mastered", only once both are mastered
    reasons = {item["atom"]["id"]: item["reason"] for item in items}
    if unlocked:
        assert reasons[str(c_atom.pk)] == "new: prerequisites mastered"
    else:
        assert str(c_atom.pk) not in reasons


def test_answering_the_prerequisite_correctly_unlocks_the_next_concept(learner_client, learner):
    # Given B requires A and the learner answers A's atoms right three times
    course, a, _b, a_atoms, b_atoms = prerequisite_course()
    for atom in [*a_atoms, a_atoms[0]]:
        answer(learner_client, atom, CORRECT_MCQ)
    p_known = LearnerConceptState.objects.get(learner=learner, concept=a).p_known
    assert p_known >= 0.8

    # When they ask for next items
    items = items_of(learner_client, course)

    # Then B's atoms are offered, new because A is mastered
    reasons = {item["atom"]["id"]: item["reason"] for item in items}
    for atom in b_atoms:
        assert reasons[str(atom.pk)] == "new: prerequisites mastered"


# --- mixing reviews and new atoms ----------------------------------------------------------


def test_due_reviews_and_new_atoms_are_mixed_in_the_course_ratio(learner_client, learner):
    # Given a course giving half of each batch to new atoms, three atoms the learner answered
    # that are now overdue, and three never seen
    course, concept = course_with_concept(new_item_ratio=0.5)
    seen = [make_atom("mcq", concept=concept) for _ in range(3)]
    unseen = [make_atom("mcq", concept=concept) for _ in range(3)]
    for atom in seen:
        answer(learner_client, atom, CORRECT_MCQ)
        make_due(learner, atom, timedelta(days=2, hours=3))

    # When they ask for four items
    items = items_of(learner_client, course, limit=4)

    # Then two are reviews and two are new
    ids = set(ids_of(items))
    assert len(items) == 4
    assert len(ids & {str(a.pk) for a in seen}) == 2
    assert len(ids & {str(a.pk) for a in unseen}) == 2
    assert sorted(item["reason"] for item in items) == [
        "due 2 days ago",
        "due 2 days ago",
        "new: first steps in this concept",
        "new: first steps in this concept",
    ]


def test_only_new_atoms_fill_the_whole_limit(learner_client):
    # Given half of a batch is meant for new atoms, but the learner has seen nothing
    course, concept = course_with_concept(new_item_ratio=0.5)
    for _ in range(6):
        make_atom("mcq", concept=concept)

    # When they ask for four items
    items = items_of(learner_client, course, limit=4)

    # Then all four are new
    assert len(items) == 4
    assert all(item["reason"].startswith("new") for item in items)


def test_only_reviews_fill_the_whole_limit(learner_client, learner):
    # Given half of a batch is meant for new atoms, but the learner has seen every atom
    course, concept = course_with_concept(new_item_ratio=0.5)
    atoms = [make_atom("mcq", concept=concept) for _ in range(5)]
    for atom in atoms:
        answer(learner_client, atom, CORRECT_MCQ)
        make_due(learner, atom, timedelta(hours=5))

    # When they ask for four items
    items = items_of(learner_client, course, limit=4)

    # Then all four are reviews
    assert len(items) == 4
    assert {item["reason"] for item in items} == {"due today"}


def test_reasons_say_how_overdue_a_review_is(learner_client, learner):
    # Given reviews overdue by a few hours, a day, two days, and one answered but not yet due
    course, concept = course_with_concept(new_item_ratio=0.5)
    overdue = {
        "due today": timedelta(hours=3),
        "due 1 day ago": timedelta(days=1, hours=2),
        "due 2 days ago": timedelta(days=2, hours=1),
    }
    atoms = {}
    for reason, ago in overdue.items():
        atoms[reason] = make_atom("mcq", concept=concept)
        answer(learner_client, atoms[reason], CORRECT_MCQ)
        make_due(learner, atoms[reason], ago)
    ahead = make_atom("mcq", concept=concept)
    answer(learner_client, ahead, CORRECT_MCQ)

    # When they ask for next items
    items = items_of(learner_client, course, limit=10)

    # Then each review's reason says when it fell due
    reasons = {item["atom"]["id"]: item["reason"] for item in items}
    for reason, atom in atoms.items():
        assert reasons[str(atom.pk)] == reason
    # P(known) of the concept is ≥ 0.8 after four right answers, so not "weak"
    assert reasons[str(ahead.pk)] == "review ahead of schedule"


def test_a_review_not_yet_due_of_a_weak_concept_says_practise(learner_client):
    # Given the learner got the only atom of a concept wrong (due again tomorrow)
    course, concept = course_with_concept()
    atom = make_atom("mcq", concept=concept)
    answer(learner_client, atom, WRONG_MCQ)

    # When they ask for next items
    items = items_of(learner_client, course)

    # Then it is offered to practise the weak concept
    assert [(i["atom"]["id"], i["reason"]) for i in items] == [
        (str(atom.pk), "practise weak concept")
    ]


def test_a_seen_atom_stays_offered_when_its_concept_becomes_locked(learner_client, learner):
    # Given the learner reviewed an atom of B before B was given the prerequisite A
    course = CourseFactory()
    a, b = ConceptFactory(course=course), ConceptFactory(course=course)
    reviewed = make_atom("mcq", concept=b)
    unseen_b = make_atom("mcq", concept=b)
    answer(learner_client, reviewed, CORRECT_MCQ)
    make_due(learner, reviewed, timedelta(days=1, hours=1))
    concept_prerequisites_set(concept=b, prerequisites=[a])

    # When they ask for next items
    items = items_of(learner_client, course)

    # Then the due review still comes, but no new atom of B
    assert [(i["atom"]["id"], i["reason"]) for i in items] == [(str(reviewed.pk), "due 1 day ago")]
    assert str(unseen_b.pk) not in ids_of(items)


def test_the_most_overdue_review_ranks_first(learner_client, learner):
    # Given two overdue reviews of the same concept, one far more overdue
    course, concept = course_with_concept(new_item_ratio=0.0)
    little, much = make_atom("mcq", concept=concept), make_atom("mcq", concept=concept)
    for atom, ago in ((little, timedelta(hours=2)), (much, timedelta(days=9))):
        answer(learner_client, atom, CORRECT_MCQ)
        make_due(learner, atom, ago)

    # When they ask for next items
    items = items_of(learner_client, course)

    # Then the more overdue one comes first, with the higher score
    assert ids_of(items) == [str(much.pk), str(little.pk)]
    assert items[0]["score"] > items[1]["score"]


# --- sessions --------------------------------------------------------------------------------


def test_atoms_answered_in_the_session_are_not_offered_again(learner_client, learner):
    # Given a session in which the learner has answered two of four atoms
    course, concept = course_with_concept()
    atoms = [make_atom("mcq", concept=concept) for _ in range(4)]
    session = learner_client.post(SESSIONS_URL, {"course": str(course.pk)}, format="json")
    assert session.status_code == 201
    session_id = session.json()["id"]
    answer(learner_client, atoms[0], CORRECT_MCQ, session=session_id)
    answer(learner_client, atoms[1], WRONG_MCQ, session=session_id)
    for atom in atoms[:2]:
        make_due(learner, atom, timedelta(days=1))  # due again, to make the point

    # When they ask for next items in that session
    in_session = items_of(learner_client, course, session=session_id)

    # Then only the two atoms not yet answered in it come back
    assert set(ids_of(in_session)) == {str(atoms[2].pk), str(atoms[3].pk)}
    # ...while outside the session (or in a new one) the answered atoms are due again
    assert set(ids_of(items_of(learner_client, course))) == {str(a.pk) for a in atoms}
    other = learner_client.post(SESSIONS_URL, {"course": str(course.pk)}, format="json").json()
    assert len(items_of(learner_client, course, session=other["id"])) == 4


def test_a_session_that_answered_everything_gives_an_empty_list(learner_client):
    course, concept = course_with_concept()
    atom = make_atom("mcq", concept=concept)
    session_id = learner_client.post(SESSIONS_URL, {}, format="json").json()["id"]
    answer(learner_client, atom, CORRECT_MCQ, session=session_id)

    assert items_of(learner_client, course, session=session_id) == []


# --- interleaving ----------------------------------------------------------------------------


def test_new_atoms_of_two_concepts_alternate(learner_client):
    # Given two unlocked concepts with three new atoms each
    course = CourseFactory(new_item_ratio=1.0)
    first, second = ConceptFactory(course=course), ConceptFactory(course=course)
    for concept in (first, second):
        for _ in range(3):
            make_atom("mcq", concept=concept)

    # When the learner asks for all six
    items = items_of(learner_client, course, limit=6)

    # Then no two consecutive items share a concept
    concepts = [item["atom"]["concepts"][0] for item in items]
    assert len(concepts) == 6
    assert all(x != y for x, y in pairwise(concepts))
    assert sorted(set(concepts)) == sorted([str(first.pk), str(second.pk)])


def test_interleaving_alternates_while_both_concepts_last(learner_client):
    # Given one concept with four new atoms and another with one
    course = CourseFactory(new_item_ratio=1.0)
    big, small = ConceptFactory(course=course), ConceptFactory(course=course)
    for _ in range(4):
        make_atom("mcq", concept=big)
    make_atom("mcq", concept=small)

    # When the learner asks for all five
    concepts = [item["atom"]["concepts"][0] for item in items_of(learner_client, course, limit=5)]

    # Then the lone atom comes in the first pair, then the rest of the big concept
    assert len(concepts) == 5
    assert set(concepts[:2]) == {str(big.pk), str(small.pk)}
    assert concepts[2:] == [str(big.pk)] * 3


def test_reviews_of_two_concepts_alternate(learner_client, learner):
    # Given two concepts whose atoms are all overdue reviews
    course = CourseFactory(new_item_ratio=0.0)
    first, second = ConceptFactory(course=course), ConceptFactory(course=course)
    for concept in (first, second):
        for _ in range(3):
            atom = make_atom("mcq", concept=concept)
            answer(learner_client, atom, CORRECT_MCQ)
            make_due(learner, atom, timedelta(days=1))

    # When the learner asks for all six
    concepts = [item["atom"]["concepts"][0] for item in items_of(learner_client, course, limit=6)]

    # Then they alternate
    assert len(concepts) == 6
    assert all(x != y for x, y in pairwise(concepts))


# --- isolation -------------------------------------------------------------------------------


def test_another_learners_practice_does_not_change_the_list(learner_client, learner):
    # Given B requires A, and learner A's list before anyone practised
    course, _a, _b, a_atoms, b_atoms = prerequisite_course()
    before = items_of(learner_client, course)

    # When another learner masters A, answers B's atoms and has them fall due
    other = UserFactory()
    other_client = APIClient()
    other_client.force_authenticate(other)
    for atom in [*a_atoms, *a_atoms]:
        answer(other_client, atom, CORRECT_MCQ)
    for atom in b_atoms:
        answer(other_client, atom, WRONG_MCQ)
        make_due(other, atom, timedelta(days=3))
    assert set(ids_of(items_of(other_client, course))) >= {str(x.pk) for x in b_atoms}

    # Then the first learner's list is unchanged: all new, B still locked, same scores
    after = items_of(learner_client, course)
    assert after == before
    assert all(item["reason"].startswith("new") for item in after)
    assert not set(ids_of(after)) & {str(x.pk) for x in b_atoms}
    assert not LearnerConceptState.objects.filter(learner=learner).exists()


# --- validation and access -----------------------------------------------------------------


@pytest.mark.parametrize("course", [None, "", "not-a-uuid", "12345"])
def test_a_missing_or_malformed_course_is_a_400(learner_client, course):
    response = next_items(learner_client, course)

    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    assert "course" in body["details"]


@pytest.mark.parametrize("limit", [0, -1, 51, 1000, "many"])
def test_a_limit_outside_1_to_50_is_a_400(learner_client, limit):
    course, concept = course_with_concept()
    make_atom("mcq", concept=concept)

    response = next_items(learner_client, course, limit=limit)

    assert response.status_code == 400
    assert "limit" in response.json()["error"]["details"]


def test_the_limit_is_respected_up_to_50(learner_client):
    course, concept = course_with_concept()
    for _ in range(3):
        make_atom("flashcard", concept=concept)

    assert len(items_of(learner_client, course, limit=2)) == 2
    assert len(items_of(learner_client, course, limit=50)) == 3


def test_a_malformed_session_is_a_400(learner_client):
    course, _ = course_with_concept()

    response = next_items(learner_client, course, session="yesterday")

    assert response.status_code == 400
    assert "session" in response.json()["error"]["details"]


def test_an_unpublished_course_is_a_404(learner_client):
    course, concept = course_with_concept(is_published=False)
    make_atom("mcq", concept=concept)

    response = next_items(learner_client, course)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_course_is_a_404(learner_client):
    assert next_items(learner_client, uuid.uuid4()).status_code == 404


def test_anonymous_callers_get_a_401(api_client):
    course, concept = course_with_concept()
    make_atom("mcq", concept=concept)

    response = next_items(api_client, course)

    assert response.status_code == 401


# --- performance -----------------------------------------------------------------------------

# The course, the session's kind and answers (one read), the learner's atom states (packed,
# with each atom's answers today for the daily limits on PostgreSQL; a read more on SQLite),
# their experiment arm in the course (issue 21: one indexed read), the learner's concept
# states; plus the migration flags when their cache has just expired. The course's
# candidates and prerequisite graph are hot (read once per process and version:
# tests/scheduler/test_next_items_hot_path.py) and so are the chosen atoms' renderings (by
# revision: test_next_items_renderings.py), so the first call reads them too.
NEXT_ITEMS_MAX_QUERIES = 8  # 7 on PostgreSQL


@pytest.mark.parametrize("n_atoms", [5, 30])
def test_the_number_of_queries_does_not_grow_with_the_atoms(
    learner_client, learner, django_assert_max_num_queries, n_atoms
):
    # Given a course of two concepts (one a prerequisite) with n atoms, some already reviewed,
    # and a session in which one was answered
    course = CourseFactory()
    a, b = ConceptFactory(course=course), ConceptFactory(course=course)
    concept_prerequisites_set(concept=b, prerequisites=[a])
    atoms = [make_atom("mcq", concept=a if i % 2 else b) for i in range(n_atoms)]
    session_id = learner_client.post(SESSIONS_URL, {}, format="json").json()["id"]
    answer(learner_client, atoms[0], CORRECT_MCQ, session=session_id)
    for atom in atoms[1:4]:
        answer(learner_client, atom, CORRECT_MCQ)
        make_due(learner, atom, timedelta(days=1))

    # When the learner asks for as many items as allowed (the course's candidates hot)
    assert next_items(learner_client, course, limit=50, session=session_id).status_code == 200
    with django_assert_max_num_queries(NEXT_ITEMS_MAX_QUERIES):
        response = next_items(learner_client, course, limit=50, session=session_id)

    # Then the answer is complete, within the same bound whatever the number of atoms
    assert response.status_code == 200
    assert len(response.json()["items"]) >= 3


def test_an_atom_shared_by_two_courses_is_scheduled_by_each_courses_concept(learner_client):
    # Given an atom linked to a concept in each of two courses; in the first course its
    # concept is locked behind a prerequisite, in the second it is open
    one, two = CourseFactory(), CourseFactory()
    prerequisite, locked = ConceptFactory(course=one), ConceptFactory(course=one)
    concept_prerequisites_set(concept=locked, prerequisites=[prerequisite])
    open_concept = ConceptFactory(course=two)
    kind = get_atom_type("mcq")
    shared = atom_create(
        by=None,
        title="Shared",
        atom_type="mcq",
        content=kind.example_content,
        grading_logic=kind.example_grading_logic,
        options=kind.example_options,
        concept_weights=[ConceptWeightInput(locked), ConceptWeightInput(open_concept)],
        status="published",
    )

    # When the learner asks for next items in each course
    in_one, in_two = items_of(learner_client, one), items_of(learner_client, two)

    # Then the first course holds it back and the second offers it
    assert in_one == []
    assert ids_of(in_two) == [str(shared.pk)]
    assert in_two[0]["reason"] == "new: first steps in this concept"
    assert sorted(in_two[0]["atom"]["concepts"]) == sorted([str(locked.pk), str(open_concept.pk)])
