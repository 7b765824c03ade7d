"""With the process memo on (production), an answer reads its course's settings from the row
kept per process (apps/curriculum/structure.py), and an edit of the course applies to the very
next answer."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.learning.services.attempts import AttemptInput, attempts_ingest
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.helpers import CORRECT_MCQ

pytestmark = pytest.mark.django_db


def _answer(learner, atom):
    item = AttemptInput(client_attempt_id=uuid.uuid4(), atom_id=atom.pk, response=CORRECT_MCQ)
    with CaptureQueriesContext(connection) as queries:
        [outcome] = attempts_ingest(learner=learner, inputs=[item])
    course_reads = [q for q in queries.captured_queries if 'FROM "curriculum_course"' in q["sql"]]
    return outcome.attempt, len(course_reads)


def test_an_answer_reads_the_kept_course_and_sees_an_edit_at_once(memo_clock):
    learner = UserFactory()
    course = CourseFactory(default_algorithm="sm2")
    concept = ConceptFactory(course=course)
    atoms = [make_atom("mcq", concept=concept) for _ in range(3)]
    _answer(learner, atoms[0])  # the course is read once and kept

    attempt, course_reads = _answer(learner, atoms[1])
    assert course_reads == 0
    assert attempt.scheduler_state_after.get("algorithm", "sm2") == "sm2"

    # an edit through save() (the admin's door) applies to the next answer
    course.default_algorithm = "fsrs"
    course.save()
    attempt, _ = _answer(learner, atoms[2])
    assert attempt.scheduler_state_after["algorithm"] == "fsrs"
