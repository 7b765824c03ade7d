"""Racing requests: the (learner, client_attempt_id) constraint decides, never a 500.

PostgreSQL only: these need real concurrent transactions (SQLite serialises its writers).
Each test holds both requests just after they have read what is stored and before either
writes, so the race happens on every run rather than by luck.
"""

import contextlib
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.learning.models import Attempt, XPEvent
from apps.learning.services import attempts as attempts_service
from apps.scheduler.services import atom_state_rebuild
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.learning.helpers import ATTEMPTS_URL, CORRECT_MCQ, WRONG_MCQ, attempt_payload, live_state

pytestmark = pytest.mark.django_db(transaction=True)

THREAD_TIMEOUT_S = 30
# How long a request waits at the hold for the other one. A request that the service makes
# wait on a row lock never arrives; the other goes on after this, and the lock then serialises.
HOLD_S = 3


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def hold_after_reading(monkeypatch):
    """Make each request wait, once, at its first scheduler computation (its reads of existing
    attempts and states done, nothing written) until all ``parties`` requests are there, or
    until HOLD_S passes because the service is holding the other one back on a row lock."""

    def install(parties: int):
        barrier = threading.Barrier(parties)
        seen = threading.local()
        original = attempts_service.review_plan

        def held(*args, **kwargs):
            if not getattr(seen, "held", False):
                seen.held = True
                # If the other request waits on our row lock, there is no race to force.
                with contextlib.suppress(threading.BrokenBarrierError):
                    barrier.wait(timeout=HOLD_S)
            return original(*args, **kwargs)

        monkeypatch.setattr(attempts_service, "review_plan", held)

    return install


def post_at_once(user, bodies: list[dict]) -> list:
    """POST every body from its own thread and client, all released together."""
    start = threading.Barrier(len(bodies))
    responses: list = [None] * len(bodies)

    def run(index: int, body: dict) -> None:
        client = APIClient()
        client.force_authenticate(user)
        try:
            start.wait(timeout=THREAD_TIMEOUT_S)
            responses[index] = client.post(ATTEMPTS_URL, body, format="json")
        except Exception as exc:  # reported by the assertion below
            responses[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT_S)
    assert not any(t.is_alive() for t in threads), "a request hung"
    assert all(hasattr(r, "status_code") for r in responses), responses
    return responses


def test_the_same_attempt_posted_twice_at_once_is_stored_once(hold_after_reading):
    # Given a learner whose device sends one answer twice at the same moment
    learner = UserFactory()
    atom = make_atom("mcq")
    body = attempt_payload(atom, CORRECT_MCQ)
    hold_after_reading(2)

    # When both requests race
    first, second = post_at_once(learner, [body, body])

    # Then one creates it and the other replays it with the same result; one row, one XP
    assert sorted([first.status_code, second.status_code]) == [200, 201]
    assert first.json() == second.json()
    assert Attempt.objects.filter(learner=learner).count() == 1
    assert XPEvent.objects.filter(learner=learner).count() == 1
    assert live_state(learner, atom)["reviews"] == 1


def test_the_same_id_with_different_answers_at_once_keeps_one(hold_after_reading):
    # Given two different answers sent under one client_attempt_id at the same moment
    learner = UserFactory()
    atom = make_atom("mcq")
    right = attempt_payload(atom, CORRECT_MCQ)
    wrong = right | {"response": WRONG_MCQ}
    hold_after_reading(2)

    # When both requests race
    responses = post_at_once(learner, [right, wrong])

    # Then one is stored and the other is refused as a conflict
    assert sorted(r.status_code for r in responses) == [201, 409]
    [conflict] = [r for r in responses if r.status_code == 409]
    assert conflict.json()["error"]["code"] == "conflict"
    [created] = [r for r in responses if r.status_code == 201]
    stored = Attempt.objects.get(learner=learner)
    assert str(stored.pk) == created.json()["id"]
    assert live_state(learner, atom)["reviews"] == 1


def test_two_new_answers_on_a_new_atom_at_once_are_both_counted(hold_after_reading):
    # Given two devices of one learner answering the same, never seen atom at the same moment
    learner = UserFactory()
    atom = make_atom("flashcard")
    bodies = [attempt_payload(atom, {"quality": 5}), attempt_payload(atom, {"quality": 2})]
    hold_after_reading(2)

    # When both requests race (both would create the learner's first state for the atom)
    responses = post_at_once(learner, bodies)

    # Then both are recorded and the scheduler state counts both reviews
    assert [r.status_code for r in responses] == [201, 201]
    assert Attempt.objects.filter(learner=learner).count() == 2
    assert live_state(learner, atom)["reviews"] == 2


def test_two_new_answers_on_a_studied_atom_at_once_are_both_counted(hold_after_reading):
    # Given a learner who has answered a flashcard once already
    learner = UserFactory()
    atom = make_atom("flashcard")
    client = APIClient()
    client.force_authenticate(learner)
    first = client.post(ATTEMPTS_URL, attempt_payload(atom, {"quality": 4}), format="json")
    assert first.status_code == 201
    bodies = [attempt_payload(atom, {"quality": 5}), attempt_payload(atom, {"quality": 1})]
    hold_after_reading(2)

    # When two devices post new answers to it at the same moment
    responses = post_at_once(learner, bodies)

    # Then both are recorded, and the state is the one the attempt log gives
    assert [r.status_code for r in responses] == [201, 201]
    assert Attempt.objects.filter(learner=learner).count() == 3
    stored = live_state(learner, atom)
    atom_state_rebuild(learner=learner, atom_id=atom.pk)
    assert stored["reviews"] == 3
    assert stored == live_state(learner, atom)
