"""The atoms' grading context is kept per process (apps/learning/services/grading_context.py)
and never outlives a change of the content workflow: an atom archived or re-published after it
was kept is refused or graded by its new revision on the very next answer (issue 19)."""

import pytest
from django.core.cache import cache

from apps.content.models import LearningAtom
from apps.content.services import atom_transition
from tests.content.factories import make_atom
from tests.learning.helpers import ATTEMPTS_URL, CORRECT_MCQ, attempt_payload, superuser

pytestmark = pytest.mark.django_db


def answer(client, atom):
    return client.post(ATTEMPTS_URL, attempt_payload(atom, CORRECT_MCQ), format="json")


def test_an_atom_archived_after_it_was_kept_is_refused_on_the_next_answer(learner_client):
    atom = make_atom("mcq")
    assert answer(learner_client, atom).status_code == 201  # now kept

    atom_transition(atom=atom, action="archive", by=superuser(), source="admin")

    assert answer(learner_client, atom).status_code == 404


def test_a_change_outside_the_workflow_is_read_once_the_version_is_lost(learner_client):
    atom = make_atom("mcq")
    assert answer(learner_client, atom).status_code == 201
    LearningAtom.objects.filter(pk=atom.pk).update(status="archived")  # nobody announced it
    assert answer(learner_client, atom).status_code == 201  # the kept copy stands until told

    cache.clear()  # a Redis restart: the version is lost, and with it every kept copy

    assert answer(learner_client, atom).status_code == 404


def test_past_the_age_bound_every_kept_atom_is_read_again_in_one_statement(
    learner_client, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.learning.services import grading_context as kept

    atoms = [make_atom("mcq") for _ in range(3)]
    for atom in atoms:
        assert answer(learner_client, atom).status_code == 201  # all three kept
    LearningAtom.objects.filter(pk=atoms[2].pk).update(status="archived")  # nobody announced it
    monkeypatch.setattr(kept, "_kept_as_of", (kept._kept_as_of[0], 0.0))  # long ago

    with CaptureQueriesContext(connection) as queries:
        assert answer(learner_client, atoms[0]).status_code == 201
    atom_reads = [q for q in queries.captured_queries if '"content_learningatom"' in q["sql"]]
    assert len(atom_reads) == 1  # the three at once, not one by one as they are answered
    with CaptureQueriesContext(connection) as queries:
        assert answer(learner_client, atoms[1]).status_code == 201
    assert not [q for q in queries.captured_queries if '"content_learningatom"' in q["sql"]]
    # the change made outside the workflow is seen once the copy is read again
    assert answer(learner_client, atoms[2]).status_code == 404
