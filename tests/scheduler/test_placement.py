import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.learning.models import StudySession, XPEvent
from apps.scheduler.models import LearnerConceptState
from apps.scheduler.placement import PLACEMENT_MAX_ITEMS
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory

pytestmark = pytest.mark.django_db

FINISH = "/api/v1/scheduler/placement/finish/"


@pytest.fixture
def course_with_items():
    course = CourseFactory()
    concepts = [ConceptFactory(course=course) for _ in range(2)]
    for n in range(30):
        make_atom(
            "true_false",
            concept=concepts[n % 2],
            title=f"Item {n}",
            content={"statement": f"Statement {n}"},
            grading_logic={"answer": True},
            irt_a=1.5,
            irt_b=-3 + 6 * n / 29,
        )
    return course, concepts


def start(client, course):
    response = client.post("/api/v1/sessions/", {"kind": "placement", "course": str(course.pk)},
                           format="json")  # fmt: skip
    assert response.status_code == 201
    return response.json()["id"]


def run_placement(client, session_id, answer_correctly) -> dict:
    import uuid

    for _ in range(PLACEMENT_MAX_ITEMS + 1):
        step = client.get(f"/api/v1/scheduler/placement/next/?session={session_id}").json()
        if step["done"]:
            finished = client.post(FINISH, {"session": session_id}, format="json")
            assert finished.status_code == 200, finished.content
            assert finished.json() == step
            return step
        atom = step["atom"]
        assert "answer" not in atom
        correct = answer_correctly(atom)
        body = {"client_attempt_id": str(uuid.uuid4()), "atom": atom["id"],
                "response": {"value": correct}, "session": session_id}  # fmt: skip
        assert client.post("/api/v1/attempts/", body, format="json").status_code == 201
    raise AssertionError("placement never finished")


def test_placement_stops_by_max_length_or_precision_and_seeds_concepts(course_with_items):
    course, _ = course_with_items
    learner = UserFactory()
    client = APIClient()
    client.force_authenticate(learner)
    session_id = start(client, course)

    result = run_placement(client, session_id, answer_correctly=lambda atom: True)

    assert result["done"] is True
    assert result["answered"] <= PLACEMENT_MAX_ITEMS
    assert result["se"] < 0.3 or result["answered"] == PLACEMENT_MAX_ITEMS
    assert result["theta"] > 1.0  # always right: a strong learner
    states = LearnerConceptState.objects.filter(learner=learner)
    assert states.count() == 2
    assert all(s.theta == pytest.approx(result["theta"], abs=1e-3) for s in states)
    assert all(s.p_known > 0.5 for s in states)


def test_a_weak_learner_is_placed_low(course_with_items):
    course, _ = course_with_items
    client = APIClient()
    client.force_authenticate(UserFactory())

    result = run_placement(client, start(client, course), answer_correctly=lambda atom: False)

    assert result["theta"] < -1.0


def test_placement_items_adapt_to_the_answers(course_with_items):
    course, _ = course_with_items
    client = APIClient()
    client.force_authenticate(UserFactory())
    session_id = start(client, course)
    first = client.get(f"/api/v1/scheduler/placement/next/?session={session_id}").json()
    assert first["theta"] == 0.0 and first["answered"] == 0

    import uuid

    body = {"client_attempt_id": str(uuid.uuid4()), "atom": first["atom"]["id"],
            "response": {"value": True}, "session": session_id}  # fmt: skip
    client.post("/api/v1/attempts/", body, format="json")
    second = client.get(f"/api/v1/scheduler/placement/next/?session={session_id}").json()

    assert second["theta"] > 0
    assert second["atom"]["id"] != first["atom"]["id"]


def test_placement_needs_your_own_placement_session(course_with_items):
    course, _ = course_with_items
    owner, other = APIClient(), APIClient()
    owner.force_authenticate(UserFactory())
    other.force_authenticate(UserFactory())
    session_id = start(owner, course)

    assert other.get(f"/api/v1/scheduler/placement/next/?session={session_id}").status_code == 404
    practice = owner.post("/api/v1/sessions/", {"kind": "practice"}, format="json").json()["id"]
    assert owner.get(f"/api/v1/scheduler/placement/next/?session={practice}").status_code == 404


def test_the_placement_finishes_through_a_post_and_only_once(course_with_items):
    # given a learner half way through a placement test
    course, _ = course_with_items
    learner = UserFactory()
    client = APIClient()
    client.force_authenticate(learner)
    session_id = start(client, course)

    # then it cannot be finished early, and reading the next item writes nothing
    early = client.post(FINISH, {"session": session_id}, format="json")
    assert early.status_code == 409 and early.json()["error"]["code"] == "placement_not_done"
    client.get(f"/api/v1/scheduler/placement/next/?session={session_id}")
    assert not LearnerConceptState.objects.filter(learner=learner).exists()

    # when it is finished, the session completes with its XP
    result = run_placement(client, session_id, answer_correctly=lambda atom: True)
    session = StudySession.objects.get(pk=session_id)
    assert session.completed_at is not None
    assert XPEvent.objects.filter(session=session, reason="session_complete").count() == 1
    seeded = {s.concept_id: s.theta for s in LearnerConceptState.objects.filter(learner=learner)}
    assert all(theta == pytest.approx(result["theta"], abs=1e-3) for theta in seeded.values())

    # and practice after it is never undone by later requests
    LearnerConceptState.objects.filter(learner=learner).update(theta=0.25)
    for _ in range(2):
        client.get(f"/api/v1/scheduler/placement/next/?session={session_id}")
        assert client.post(FINISH, {"session": session_id}, format="json").status_code == 200
    thetas = set(
        LearnerConceptState.objects.filter(learner=learner).values_list("theta", flat=True)
    )
    assert thetas == {0.25}
    assert XPEvent.objects.filter(session=session, reason="session_complete").count() == 1


def test_a_placement_is_finished_only_through_its_own_door(course_with_items):
    # given a learner who answered the whole placement test
    course, _ = course_with_items
    learner = UserFactory()
    client = APIClient()
    client.force_authenticate(learner)
    session_id = start(client, course)

    # when they close it through the generic session door, it is refused: closing it there
    # would skip the result, and placement_finish would then have nothing to apply
    closed = client.post(f"/api/v1/sessions/{session_id}/complete/", {}, format="json")
    assert closed.status_code == 409
    assert closed.json()["error"]["code"] == "placement_finish_required"
    assert StudySession.objects.get(pk=session_id).completed_at is None

    # then the placement door still finishes it, with its result
    run_placement(client, session_id, answer_correctly=lambda atom: True)
    assert StudySession.objects.get(pk=session_id).completed_at is not None
    assert LearnerConceptState.objects.filter(learner=learner).exists()


def _guessable_course(c: float):
    course = CourseFactory()
    concept = ConceptFactory(course=course)
    for n in range(12):
        make_atom(
            "true_false",
            concept=concept,
            title=f"Guessable {n}",
            content={"statement": f"Statement {n}"},
            grading_logic={"answer": True},
            irt_a=1.5,
            irt_b=-2 + 4 * n / 11,
            irt_c=c,
        )
    return course, concept


def test_the_seed_removes_guessing_from_p_known():
    # given a course of 3PL items a learner can guess right a quarter of the time
    from apps.scheduler.placement import _concept_states_seed

    course, concept = _guessable_course(0.25)
    learner = UserFactory()
    session = StudySession.objects.create(
        learner=learner, kind="placement", course=course, started_at=timezone.now()
    )

    # when a placement result far below every item (θ = −6) seeds the concept
    _concept_states_seed(session=session, theta=-6.0, se=0.3)

    # then P(known) is about nil, not the 0.25 a guesser gets right: knowing is the 2PL part
    state = LearnerConceptState.objects.get(learner=learner, concept=concept)
    assert state.p_known < 0.02
    assert state.theta == -6.0


def test_a_weak_learner_on_guessable_items_is_seeded_as_not_knowing():
    # given 3PL items with c = 0.25, all answered wrong in the placement test
    course, concept = _guessable_course(0.25)
    learner = UserFactory()
    client = APIClient()
    client.force_authenticate(learner)

    result = run_placement(client, start(client, course), answer_correctly=lambda atom: False)

    # then P(known) is the chance the learner knows (the guessing-free curve at θ), which for a
    # learner placed this low is well under the 0.25 they would get right by guessing
    state = LearnerConceptState.objects.get(learner=learner, concept=concept)
    assert result["theta"] < -1.0
    assert state.p_known < 0.15
