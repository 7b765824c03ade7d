"""Next items from the hot path (issue 19): the course's candidates kept per process
(apps/scheduler/candidates.py) and the learner's states read packed. It must pick exactly what
the implementation before it picks (tests/scheduler/next_items_reference.py) for the same
state, and a publish or an archive must show on the very next call."""

import uuid
from datetime import timedelta

import numpy as np
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.content.models import LearningAtom
from apps.content.services import atom_transition
from apps.core.cache_versions import cache_version, cache_version_bump
from apps.curriculum.services import concept_prerequisites_set
from apps.scheduler import candidates as hot
from apps.scheduler.models import LearnerAtomState, LearnerConceptState
from apps.scheduler.selectors import next_items, next_items_today
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.factories import AttemptFactory
from tests.learning.helpers import ATTEMPTS_URL, SESSIONS_URL, attempt_payload, superuser

from .next_items_reference import next_items_reference

pytestmark = pytest.mark.django_db

N_CONCEPTS, N_ATOMS = 4, 14


def picks(items) -> list[tuple]:
    return [(item.atom_id, item.reason, item.score) for item in items]


def course_of_atoms():
    """Four concepts (the last two behind the first), 14 published atoms spread over them,
    with few distinct IRT difficulties, so equal scores (and their tie-break) are common."""
    course = CourseFactory(mastery_threshold=0.7)
    concepts = [ConceptFactory(course=course, text=f"C{i}") for i in range(N_CONCEPTS)]
    concept_prerequisites_set(concept=concepts[2], prerequisites=[concepts[0]])
    concept_prerequisites_set(concept=concepts[3], prerequisites=[concepts[0], concepts[1]])
    atoms = [
        make_atom("true_false", concept=concepts[i % N_CONCEPTS], irt_b=float(i % 3 - 1))
        for i in range(N_ATOMS)
    ]
    return course, concepts, atoms


atom_state = st.one_of(
    st.none(),  # never seen
    st.tuples(
        st.integers(min_value=-20 * 24, max_value=20 * 24),  # hours from now it falls due
        st.integers(min_value=0, max_value=6),  # reviews (0: seen, not reviewed yet)
    ),
)
history = st.fixed_dictionaries(
    {
        "atoms": st.lists(atom_state, min_size=N_ATOMS, max_size=N_ATOMS),
        "concepts": st.lists(
            st.one_of(st.none(), st.tuples(st.floats(0, 1), st.floats(-3, 3))),
            min_size=N_CONCEPTS,
            max_size=N_CONCEPTS,
        ),
        "limit": st.integers(min_value=1, max_value=N_ATOMS + 2),
        "exclude": st.sets(st.integers(min_value=0, max_value=N_CONCEPTS - 1), max_size=2),
        "other_course_states": st.integers(min_value=0, max_value=3),
    }
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=history)
def test_the_hot_path_picks_what_the_reference_picks_for_any_history(data):
    # Given a course (built once; its candidates stay hot across the examples)...
    course, concepts, atoms, other_course_atoms = _built_once()
    # ...and a new learner with a random history: atom states, concept states, states in
    # another course, concepts practised elsewhere right now
    learner = UserFactory()
    now = timezone.now()
    LearnerAtomState.objects.bulk_create(
        LearnerAtomState(learner=learner, atom=atom, due_at=now + timedelta(hours=state[0]),
                         reviews=state[1], state={"algorithm": "sm2"})
        for atom, state in zip(atoms, data["atoms"], strict=True) if state is not None
    )  # fmt: skip
    LearnerConceptState.objects.bulk_create(
        LearnerConceptState(learner=learner, concept=concept, p_known=state[0], theta=state[1])
        for concept, state in zip(concepts, data["concepts"], strict=True) if state is not None
    )  # fmt: skip
    LearnerAtomState.objects.bulk_create(
        LearnerAtomState(learner=learner, atom=atom, due_at=now, reviews=3)
        for atom in other_course_atoms[: data["other_course_states"]]
    )
    exclude = frozenset(concepts[i].pk for i in data["exclude"])

    # When both implementations choose
    arguments = {"learner": learner, "course": course, "limit": data["limit"]}
    fast = next_items(**arguments, exclude_concepts=exclude)
    reference = next_items_reference(**arguments, exclude_concepts=exclude)

    # Then they pick the same atoms, in the same order, for the same reasons and scores
    assert picks(fast) == picks(reference)


_built: dict = {}


def _built_once() -> tuple:
    """The course and three atoms of other courses, built on the test's first example and
    kept for the rest (the test's transaction holds them); built again once a previous test's
    rollback has removed them."""
    kept = _built.get("course")
    if kept is None or not LearningAtom.objects.filter(pk=kept[2][0].pk).exists():
        other_course_atoms = [make_atom("true_false", concept=ConceptFactory()) for _ in range(3)]
        _built["course"] = kept = (*course_of_atoms(), other_course_atoms)
    return kept


def test_the_hot_path_agrees_on_the_atoms_answered_in_the_session(learner_client, learner):
    # Given a learner who answered two atoms of the course in a session
    course, _concepts, atoms = course_of_atoms()
    session = learner_client.post(SESSIONS_URL, {}, format="json").json()["id"]
    for atom in atoms[:2]:
        response = learner_client.post(
            ATTEMPTS_URL, attempt_payload(atom, {"value": True}, session=session),
            format="json",
        )  # fmt: skip
        assert response.status_code == 201, response.content

    # When both implementations choose within that session
    arguments = {"learner": learner, "course": course, "limit": N_ATOMS, "session_id": session}

    # Then neither offers them again, and they agree on everything else
    fast = next_items(**arguments)
    assert picks(fast) == picks(next_items_reference(**arguments))
    assert not {atom.pk for atom in atoms[:2]} & {item.atom_id for item in fast}


# --- never stale -----------------------------------------------------------------------------


def offered(learner, course) -> set:
    return {item.atom_id for item in next_items(learner=learner, course=course, limit=50)}


def test_a_publish_shows_on_the_next_call(learner):
    # Given a course whose candidates are hot
    course = CourseFactory()
    concept = ConceptFactory(course=course)
    first = make_atom("true_false", concept=concept)
    assert offered(learner, course) == {first.pk}

    # When an editor publishes another atom, and one goes through review and is published
    second = make_atom("true_false", concept=concept)
    reviewed = make_atom("true_false", concept=concept, status="approved")
    assert offered(learner, course) == {first.pk, second.pk}
    atom_transition(atom=reviewed, action="publish", by=superuser(), source="admin")

    # Then the very next call offers each
    assert offered(learner, course) == {first.pk, second.pk, reviewed.pk}


def test_an_archive_shows_on_the_next_call(learner):
    # Given a course of two atoms whose candidates are hot
    course = CourseFactory()
    concept = ConceptFactory(course=course)
    kept, archived = (make_atom("true_false", concept=concept) for _ in range(2))
    assert offered(learner, course) == {kept.pk, archived.pk}

    # When one is archived
    atom_transition(atom=archived, action="archive", by=superuser(), source="admin")

    # Then the very next call leaves it out
    assert offered(learner, course) == {kept.pk}


def test_a_lost_version_rebuilds_the_candidates(learner):
    # Given hot candidates, then a change the workflow did not announce (a direct update)
    course = CourseFactory()
    concept = ConceptFactory(course=course)
    atom = make_atom("true_false", concept=concept)
    assert offered(learner, course) == {atom.pk}
    LearningAtom.objects.filter(pk=atom.pk).update(status="archived")
    assert offered(learner, course) == {atom.pk}  # the copy stands until told

    # When the cache loses its version (a Redis restart)
    cache.clear()

    # Then the next call reads the course afresh
    assert offered(learner, course) == set()


def test_a_copy_older_than_its_maximum_age_is_rebuilt(learner, monkeypatch):
    course = CourseFactory()
    concept = ConceptFactory(course=course)
    atom = make_atom("true_false", concept=concept)
    assert offered(learner, course) == {atom.pk}
    LearningAtom.objects.filter(pk=atom.pk).update(status="archived")

    monkeypatch.setattr(hot, "MAX_AGE_S", 0.0)

    assert offered(learner, course) == set()


def test_the_version_changes_at_once_and_again_at_commit(django_capture_on_commit_callbacks):
    before = cache_version("example")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        cache_version_bump("example")
        during = cache_version("example")
    after = cache_version("example")

    assert len(callbacks) == 1
    assert len({before, during, after}) == 3


# --- performance -----------------------------------------------------------------------------

# Warm: the session's answers, the learner's atom states (packed), their experiment arm in the
# course (one indexed read of their assignments), their concept states. Cold: plus the
# course's candidates (one read) and its row and concept graph (three), each once per process
# and version, and its BKT priors (cached for five minutes). The chosen atoms' renderings
# are the endpoint's, kept per process by revision (test_next_items_renderings.py).
NEXT_ITEMS_WARM_QUERIES = 4


@pytest.mark.parametrize("n_atoms", [5, 30])
def test_a_warm_call_runs_the_same_few_queries_whatever_the_atoms(learner, n_atoms):
    course = CourseFactory()
    concepts = [ConceptFactory(course=course) for _ in range(3)]
    for i in range(n_atoms):
        make_atom("true_false", concept=concepts[i % 3])
    session = uuid.uuid4()  # no answers in it
    with CaptureQueriesContext(connection) as cold:
        next_items(learner=learner, course=course, session_id=session)

    with CaptureQueriesContext(connection) as warm:
        items = next_items(learner=learner, course=course, session_id=session)

    assert len(items) == min(10, n_atoms)
    assert len(warm) == NEXT_ITEMS_WARM_QUERIES, [q["sql"] for q in warm]
    assert len(cold) == NEXT_ITEMS_WARM_QUERIES + 5


def test_the_daily_limits_ride_on_the_states_read(learner):
    # Given a course in which the learner answered two atoms today, one of them met before
    course = CourseFactory(new_per_day=5, reviews_per_day=5)
    concept = ConceptFactory(course=course)
    atoms = [make_atom("true_false", concept=concept) for _ in range(4)]
    now = timezone.now()
    for atom, reviews in ((atoms[0], 1), (atoms[1], 3)):
        for minutes in range(2 if reviews == 3 else 1):  # today's answers
            AttemptFactory(learner=learner, atom=atom, answered_at=now - timedelta(minutes=minutes))
        LearnerAtomState.objects.create(
            learner=learner, atom=atom, state={}, due_at=now, last_reviewed_at=now, reviews=reviews
        )
    next_items(learner=learner, course=course)  # the candidates hot

    with CaptureQueriesContext(connection) as plain:
        next_items(learner=learner, course=course)
    with CaptureQueriesContext(connection) as within_limits:
        limits = next_items_today(learner=learner, course=course, now=now).limits

    # Then one atom counts as new today and one as a review
    assert (limits.new_done, limits.reviews_done) == (1, 1)
    # and on PostgreSQL today's answers come with the learner's states: no statement more
    extra = 0 if connection.vendor == "postgresql" else 1
    assert len(within_limits) == len(plain) + extra, [q["sql"] for q in within_limits]


def test_todays_answers_match_an_atom_whose_uuid_ends_in_a_zero_byte(learner, monkeypatch):
    # numpy's S16 drops trailing zero bytes when turned back into Python bytes
    ends_in_zero = uuid.UUID("12345678-1234-4234-9234-123456789a00")
    monkeypatch.setattr(LearningAtom._meta.pk, "_get_default", lambda: ends_in_zero)
    atom = make_atom("true_false", concept=ConceptFactory())
    monkeypatch.undo()
    now = timezone.now()
    AttemptFactory(learner=learner, atom=atom, answered_at=now)
    LearnerAtomState.objects.create(
        learner=learner, atom=atom, state={}, due_at=now, last_reviewed_at=now, reviews=1
    )

    states = hot.learner_state_arrays(learner.pk, answers_since=now - timedelta(hours=1))

    assert atom.pk == ends_in_zero
    assert states.answers_since.tolist() == [1.0]


def test_atoms_are_matched_by_their_whole_uuid_even_when_the_first_halves_collide():
    # Given candidates whose UUIDs share their first 8 bytes, and ones that do not
    def candidates_of(keys: list[bytes]) -> hot.CourseCandidates:
        array = np.array(keys, dtype="S16")
        order = np.argsort(array, kind="stable")
        return hot.CourseCandidates(
            atom_ids=[], revision_ids=[], keys_sorted=array[order], rows_sorted=order,
            irt_a=None, irt_b=None, irt_c=None, concept_codes=None, concepts=[], other_links=(),
        )  # fmt: skip

    colliding = [b"\x01" * 8 + bytes([n]) * 8 for n in (3, 1, 2)]
    distinct = [uuid.uuid4().bytes for _ in range(50)]
    asked = lambda keys: np.array(keys, dtype="S16")  # noqa: E731

    # Then each known UUID finds its row and an unknown one (or a half match) finds none
    for keys in (colliding, distinct):
        found = candidates_of(keys).rows_of(asked([*reversed(keys), b"\x01" * 8 + b"\x09" * 8]))
        assert list(found) == [*reversed(range(len(keys))), -1]
    assert list(candidates_of(distinct).rows_of(asked([]))) == []
