"""Statements per attempt request, held at their bounds: a live answer, a replay, and an
offline batch whose statement count does not grow with its rows (issue 19).

Counted inside the test's transaction: the service's BEGIN and COMMIT show up here as a
SAVEPOINT and its RELEASE."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory
from tests.learning.helpers import ATTEMPTS_URL, BATCH_URL, WRONG_MCQ, attempt_payload

pytestmark = pytest.mark.django_db

# A first answer creates the learner's atom and concept states (and reads the course's fitted
# priors for the new concept state, and the atom's grading context, which is then kept per
# process); a later one updates both. On PostgreSQL each request also takes the learner's write
# lock (attempts are partitioned by month: it keeps client ids unique across months), even a
# replay, which otherwise reads only the stored attempt. The learner's first answer of a local
# day also reads the streak's window of days and XP (streak bonuses, rewards.py); a later
# answer of the day does not.
LOCK = 1 if connection.vendor == "postgresql" else 0
FIRST_ANSWER_STATEMENTS = 17 + LOCK
NEXT_ANSWER_STATEMENTS = 12 + LOCK
REPLAY_STATEMENTS = 1 + LOCK * 3  # the lock, and its transaction's SAVEPOINT and RELEASE
BATCH_STATEMENTS = 12 + LOCK


def statements(client, url, body) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        status = client.post(url, body, format="json").status_code
    return status, len(queries)


def test_a_first_answer_and_a_later_one(learner_client):
    atom = make_atom("mcq")

    first = statements(learner_client, ATTEMPTS_URL, attempt_payload(atom))
    later = statements(learner_client, ATTEMPTS_URL, attempt_payload(atom, WRONG_MCQ))

    assert first[0] == later[0] == 201
    assert first[1] <= FIRST_ANSWER_STATEMENTS
    assert later[1] <= NEXT_ANSWER_STATEMENTS


def test_a_replay_reads_only_the_stored_attempt(learner_client):
    atom = make_atom("mcq")
    body = attempt_payload(atom)
    learner_client.post(ATTEMPTS_URL, body, format="json")

    assert statements(learner_client, ATTEMPTS_URL, body) == (200, REPLAY_STATEMENTS)


@pytest.mark.parametrize("rows", [4, 40])
def test_a_batch_takes_the_same_statements_whatever_its_size(learner_client, rows):
    concept = ConceptFactory()
    atoms = [make_atom("mcq", concept=concept) for _ in range(4)]
    # every atom and the concept answered once before: the batch updates states
    for atom in atoms:
        learner_client.post(ATTEMPTS_URL, attempt_payload(atom), format="json")
    body = {"attempts": [attempt_payload(atoms[n % 4]) for n in range(rows)]}

    status, count = statements(learner_client, BATCH_URL, body)

    assert status == 200
    assert count <= BATCH_STATEMENTS
