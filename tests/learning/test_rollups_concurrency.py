"""Concurrent batches of one learner, and rebuilds racing them, leave the rollups equal to the
attempt log (PostgreSQL only: SQLite serialises its writers)."""

import threading
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from apps.learning.selectors import learner_statistics, learner_statistics_from_attempts
from apps.learning.services.attempts import AttemptInput, attempts_ingest
from apps.learning.services.rollups import learner_rollups_rebuild
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.learning.helpers import CORRECT_MCQ, WRONG_MCQ
from tests.learning.test_rollups import _rows

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS, BATCHES, ROWS = 4, 6, 5
THREAD_TIMEOUT_S = 60


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL (set DATABASE_URL)")


def test_racing_batches_and_rebuilds_add_up():
    learner = UserFactory(timezone="Asia/Kathmandu")
    atoms = [make_atom("mcq") for _ in range(3)]
    now = timezone.now()
    start = threading.Barrier(WRITERS + 1)
    writing = threading.Event()
    errors: list = []

    def write(n: int) -> None:
        try:
            start.wait(timeout=THREAD_TIMEOUT_S)
            for b in range(BATCHES):
                inputs = [
                    AttemptInput(
                        uuid.uuid4(),
                        atoms[(n + b + r) % 3].pk,  # every writer on every atom and day
                        CORRECT_MCQ if (n + r) % 2 else WRONG_MCQ,
                        100 * r + n,
                        answered_at=now - timezone.timedelta(hours=5 * r),
                    )
                    for r in range(ROWS)
                ]
                outcomes = attempts_ingest(learner=learner, inputs=inputs, now=now)
                assert {o.status for o in outcomes} == {"created"}
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    def rebuild() -> None:
        try:
            start.wait(timeout=THREAD_TIMEOUT_S)
            while writing.is_set():
                learner_rollups_rebuild(learner_ids=[learner.pk])
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    writing.set()
    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    rebuilder = threading.Thread(target=rebuild)
    for thread in [*writers, rebuilder]:
        thread.start()
    for thread in writers:
        thread.join(THREAD_TIMEOUT_S)
    writing.clear()
    rebuilder.join(THREAD_TIMEOUT_S)
    assert not errors, errors

    kept = _rows(learner)
    statistics = learner_statistics(learner)
    assert statistics == learner_statistics_from_attempts(learner)
    assert statistics["overall"]["attempts"] == WRITERS * BATCHES * ROWS
    learner_rollups_rebuild(learner_ids=[learner.pk])
    assert _rows(learner) == kept
