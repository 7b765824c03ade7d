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
