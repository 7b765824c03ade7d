"""The embedded default (SQLite) under concurrent learners: writers queue for the lock, none
fails with "database is locked" (transactions begin IMMEDIATE, with a busy timeout and WAL)."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.learning.models import Attempt
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.learning.helpers import ATTEMPTS_URL, attempt_payload

pytestmark = pytest.mark.django_db(transaction=True)

CLIENTS, REQUESTS_EACH = 8, 3


@pytest.fixture(autouse=True)
def _sqlite_only():
    if connection.vendor != "sqlite":
        pytest.skip("the embedded default's locking (PostgreSQL has tests of its own)")


def test_eight_learners_posting_at_once_all_succeed():
    # given eight learners on the same atoms, each with a client of their own
    learners = [UserFactory() for _ in range(CLIENTS)]
    atoms = [make_atom("mcq") for _ in range(REQUESTS_EACH)]
    start = threading.Barrier(CLIENTS)
    statuses: list = []

    def practise(learner) -> None:
        client = APIClient()
        client.force_authenticate(learner)
        try:
            start.wait(timeout=30)
            for atom in atoms:
                statuses.append(client.post(ATTEMPTS_URL, attempt_payload(atom), format="json"))
        except Exception as exc:  # reported by the assertion below
            statuses.append(exc)
        finally:
            connection.close()

    # when they all answer at once
    threads = [threading.Thread(target=practise, args=(learner,)) for learner in learners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # then every answer is recorded
    assert not any(t.is_alive() for t in threads), "a request hung"
    codes = [getattr(r, "status_code", r) for r in statuses]
    assert codes == [201] * (CLIENTS * REQUESTS_EACH), codes
    assert Attempt.objects.count() == CLIENTS * REQUESTS_EACH
