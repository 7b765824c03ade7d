"""Writes of mock tests: saving a blueprint, drawing a test, answering, marking, and the
sweep that marks tests whose time ran out.

Answers are attempts: each goes through ``attempts_ingest`` in the test's study session (kind
``mock_test``), so the scheduler and IRT calibration count it and nothing grades twice.
``attempts_ingest`` grades against the atom's *current* published revision; an item is
pinned to the revision published when the test was drawn. While they are the same (nearly
always: a test lasts minutes) the attempt's verdict is the item's. When the atom was
re-published or archived during the test, the learner still answered the pinned revision:
that answer is marked against it by the atom type's own grader (the same ``grade_response``
the attempt service calls) and recorded on the item only. No attempt is written, because the
attempt log records a verdict against the revision it names, and the scheduler would
otherwise move the learner's state on a question they were never shown.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.analytics.schema import EventKind
from apps.analytics.services import event_record
from apps.content.atom_types import AtomValidationError, get_atom_type
from apps.content.models import AtomStatus, LearningAtom
from apps.content.selectors import revision_atom_snapshot
from apps.core.errors import DomainConflict
from apps.core.services import audit_record
from apps.core.signals import learner_figures_changed_on_commit
from apps.learning.models import Attempt, SessionKind, StudySession
from apps.learning.services.attempts import AttemptInput, attempts_ingest
from apps.learning.services.locks import learner_write_lock
from apps.learning.services.sessions import study_session_complete, study_session_start

from .drawing import PoolTooSmall, SectionPool, draw
from .models import BlueprintSection, MockTest, MockTestBlueprint, MockTestItem
from .selectors import blueprint_section_pool, learner_last_test_atoms, mock_test_result

# --- errors (409 in the API, with these codes) ------------------------------------------------


class BlueprintMissing(DomainConflict):
    code = "blueprint_missing"


class BlueprintPoolTooSmall(DomainConflict):
    code = "blueprint_pool_too_small"

    def __init__(self, sections: list[dict]):
        self.sections = sections
        named = "; ".join(
            f"{s['title']} needs {s['needed']} items, {s['available']} available" for s in sections
        )
        super().__init__(f"Not enough published atoms for the mock test blueprint: {named}.")

    def details(self) -> dict:
        return {"sections": self.sections}


class TestInProgress(DomainConflict):
    code = "test_in_progress"

    def __init__(self, test: MockTest):
        self.test = test
        super().__init__(
            "You have a mock test of this course in progress: finish or submit it first."
        )

    def details(self) -> dict:
        return {"test": str(self.test.pk), "expires_at": self.test.expires_at.isoformat()}


class TestExpired(DomainConflict):
    code = "test_expired"

    def __init__(self, test: MockTest):
        self.test = test
        super().__init__("The time for this test is up; it has been marked with your answers.")

    def details(self) -> dict:
        return {"test": str(self.test.pk), "expires_at": self.test.expires_at.isoformat()}


class TestSubmitted(DomainConflict):
    code = "test_submitted"

    def __init__(self, test: MockTest):
        self.test = test
        super().__init__("This test has been submitted; it takes no more answers.")

    def details(self) -> dict:
        return {"test": str(self.test.pk)}


class ItemAlreadyAnswered(DomainConflict):
    code = "item_already_answered"

    def __init__(self, atom_id):
        self.atom_id = atom_id
        super().__init__("This item was already answered in this test; answers are final.")

    def details(self) -> dict:
        return {"atom": str(self.atom_id)}


class AnswerIdReused(DomainConflict):
    """The same ``client_attempt_id`` with a different answer (as for attempts: 409)."""

    code = "conflict"

    def __init__(self):
        super().__init__("This client_attempt_id was already used for a different answer.")


class TestSessionSetAside(DomainConflict):
    code = "test_session_set_aside"

    def __init__(self):
        super().__init__(
            "A progress reset set this test's session aside; it takes no more answers. "
            "Submit it, or start a new test."
        )


# --- blueprints -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionInput:
    item_count: int
    unit: Any = None
    concept: Any = None


def mock_test_blueprint_save(
    *, blueprint: MockTestBlueprint, sections: list[SectionInput], by, source: str = "admin"
) -> MockTestBlueprint:
    """Save ``blueprint`` (new or changed) with exactly ``sections``, in order, and audit it.
    Tests already drawn keep their items, time limit and pass mark."""
    errors = {}
    for number, section in enumerate(sections):
        target = section.unit or section.concept
        if (section.unit is None) == (section.concept is None):
            errors[f"sections.{number}"] = ["Choose a unit or a concept, not both."]
        elif target.course_id != blueprint.course_id:
            errors[f"sections.{number}"] = [f"{target} is not part of {blueprint.course}."]
    if not sections:
        errors["sections"] = ["Add at least one section (a unit or a concept and its items)."]
    if errors:
        raise ValidationError(errors)
    blueprint.full_clean(exclude=["course"] if blueprint.course_id else None)
    with transaction.atomic():
        created = blueprint._state.adding
        blueprint.save()
        blueprint.sections.all().delete()
        BlueprintSection.objects.bulk_create(
            BlueprintSection(
                blueprint=blueprint,
                position=position,
                unit=section.unit,
                concept=section.concept,
                item_count=section.item_count,
            )
            for position, section in enumerate(sections)
        )
        audit_record(
            actor=by,
            source=source,
            action="blueprint_created" if created else "blueprint_changed",
            target=blueprint,
            details={
                "time_limit_minutes": blueprint.time_limit_minutes,
                "pass_mark_percent": blueprint.pass_mark_percent,
                "sections": [
                    {
                        "unit": str(s.unit.pk) if s.unit else None,
                        "concept": str(s.concept.pk) if s.concept else None,
                        "item_count": s.item_count,
                    }
                    for s in sections
                ],
            },
        )
    return blueprint


# --- drawing a test ---------------------------------------------------------------------------


def mock_test_start(*, learner, course, now: datetime | None = None, rng=None) -> MockTest:
    """Draw a test for ``learner`` from ``course``'s blueprint, pinned to the published
    revisions, avoiding the atoms of their last test where the pool allows.

    Refused (409) without a blueprint, with a pool too small for it (never a short test), or
    while another test of the course is open; an open test whose time ran out is marked first.
    """
    now = now or timezone.now()
    blueprint = MockTestBlueprint.objects.filter(course=course).first()
    sections = list(blueprint.sections.select_related("unit", "concept")) if blueprint else []
    if not sections:
        raise BlueprintMissing(f"{course} has no mock test yet: its blueprint has no sections.")
    for open_test in MockTest.objects.filter(learner=learner, course=course, submitted_at=None):
        if open_test.is_expired(now):
            mock_test_submit(test=open_test, now=now)
        else:
            raise TestInProgress(open_test)

    pools = {section.pk: blueprint_section_pool(section) for section in sections}
    try:
        drawn = draw(
            [SectionPool(s.pk, s.item_count, frozenset(pools[s.pk])) for s in sections],
            avoid=learner_last_test_atoms(learner=learner, course=course),
            rng=rng or random.SystemRandom(),
        )
    except PoolTooSmall as short:
        by_pk = {section.pk: section for section in sections}
        raise BlueprintPoolTooSmall(
            [
                {
                    "unit": str(by_pk[s.key].unit_id) if by_pk[s.key].unit_id else None,
                    "concept": str(by_pk[s.key].concept_id) if by_pk[s.key].concept_id else None,
                    "title": _section_title(by_pk[s.key]),
                    "needed": s.needed,
                    "available": s.available,
                }
                for s in short.shortfalls
            ]
        ) from None

    time_limit_s = blueprint.time_limit_minutes * 60
    try:
        with transaction.atomic():
            session = study_session_start(
                learner=learner, kind=SessionKind.MOCK_TEST, course=course, started_at=now
            )
            test = MockTest.objects.create(
                learner=learner,
                course=course,
                blueprint=blueprint,
                session=session,
                time_limit_s=time_limit_s,
                pass_mark_percent=blueprint.pass_mark_percent,
                item_count=sum(s.item_count for s in sections),
                started_at=now,
                expires_at=now + timezone.timedelta(seconds=time_limit_s),
            )
            items, position = [], 0
            for section in sections:  # in the blueprint's order
                for atom_id in drawn[section.pk]:
                    items.append(
                        MockTestItem(
                            test=test,
                            position=position,
                            atom_id=atom_id,
                            revision_id=pools[section.pk][atom_id],
                            unit_id=section.unit_id,
                            concept_id=section.concept_id,
                            section_title=_section_title(section),
                        )
                    )
                    position += 1
            MockTestItem.objects.bulk_create(items)
    except IntegrityError:
        # Another request started a test of this course for the learner meanwhile.
        racing = MockTest.objects.filter(learner=learner, course=course, submitted_at=None).first()
        if racing is None:
            raise
        raise TestInProgress(racing) from None
    return test


def _section_title(section: BlueprintSection) -> str:
    return section.unit.title if section.unit_id else section.concept.text


# --- answering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerOutcome:
    """``created`` (201) or ``replayed`` (200, the same item as the first time)."""

    status: str
    item: MockTestItem


def mock_test_answer(
    *,
    test: MockTest,
    atom_id: uuid.UUID,
    response: Any,
    client_attempt_id: uuid.UUID,
    time_taken_ms: int = 0,
    now: datetime | None = None,
) -> AnswerOutcome:
    """Record the answer to one item, graded as an attempt; the verdict stays hidden until
    the test is marked. Idempotent like attempts: the same ``client_attempt_id`` and body is a
    replay, the same id with another body a 409. One answer per item (answers are final).

    After ``expires_at`` the answer is refused with ``test_expired``, and the test is marked
    with what it has (committed before the refusal is raised).
    """
    now = now or timezone.now()
    with transaction.atomic():
        test = _locked(test)
        replayed = test.items.filter(client_attempt_id=client_attempt_id).first()
        if replayed is not None:
            if (replayed.atom_id, replayed.response, replayed.time_taken_ms) == (
                atom_id,
                response,
                time_taken_ms,
            ):
                return AnswerOutcome("replayed", replayed)
            raise AnswerIdReused()
        expired = test.is_expired(now)
        if expired and test.submitted_at is None:
            _mark(test, now, auto=True)
        elif test.submitted_at is not None and not expired:
            raise TestSubmitted(test)
        if not expired:
            item = test.items.filter(atom_id=atom_id).select_related("revision").first()
            if item is None:
                raise ValidationError({"atom": [f"Atom {atom_id} is not an item of this test."]})
            if item.answered_at is not None:
                raise ItemAlreadyAnswered(atom_id)
            _grade(test, item, response, client_attempt_id, time_taken_ms, now)
            return AnswerOutcome("created", item)
    raise TestExpired(test)  # outside the block: the marking above is committed


def _locked(test: MockTest) -> MockTest:
    """Precondition: inside a transaction. The learner's write lock first (the order the
    attempt service and progress reset take it in), then the test row: answers and the
    marking of one test apply one at a time."""
    learner_write_lock(test.learner_id)
    return MockTest.objects.select_for_update().get(pk=test.pk)


def _grade(test, item, response, client_attempt_id, time_taken_ms, now) -> None:
    """Precondition: inside the answer's transaction, holding the test's lock."""
    atom = LearningAtom.objects.only("status", "published_revision_id").get(pk=item.atom_id)
    pinned_is_live = (
        atom.published_revision_id == item.revision_id and atom.status != AtomStatus.ARCHIVED
    )
    if pinned_is_live:
        [outcome] = attempts_ingest(
            learner=test.learner,
            inputs=[
                AttemptInput(
                    client_attempt_id=client_attempt_id,
                    atom_id=item.atom_id,
                    response=response,
                    time_taken_ms=time_taken_ms,
                    session_id=test.session_id,
                )
            ],
            now=now,
        )
        if outcome.status == "invalid":
            if "session" in outcome.errors:
                raise TestSessionSetAside()
            raise ValidationError(outcome.errors)
        attempt = outcome.attempt
        if outcome.status == "conflict" or attempt.session_id != test.session_id:
            # The id names one of the learner's attempts outside this test.
            raise AnswerIdReused()
        item.attempt = attempt
        item.correct, item.score = attempt.correct, attempt.score
        item.feedback, item.misconception_id = attempt.feedback, attempt.misconception_id
    else:
        if Attempt.objects.filter(
            learner_id=test.learner_id, client_attempt_id=client_attempt_id
        ).exists():
            raise AnswerIdReused()
        revision = item.revision
        kind = get_atom_type(revision.snapshot["atom_type"])
        try:
            result = kind.grade_response(revision_atom_snapshot(revision), response)
        except AtomValidationError as exc:
            raise ValidationError(exc.errors) from None
        item.correct, item.score = result.correct, result.score
        item.feedback, item.misconception_id = result.feedback, result.misconception_id
    item.client_attempt_id = client_attempt_id
    item.response = response
    item.time_taken_ms = time_taken_ms
    item.answered_at = now
    item.save()


# --- marking ----------------------------------------------------------------------------------


def mock_test_submit(*, test: MockTest, now: datetime | None = None) -> MockTest:
    """Mark ``test`` with the answers it has (unanswered items are wrong) and complete its
    study session. Idempotent: a marked test is returned as it is. A test submitted after its
    time ran out is recorded as marked automatically."""
    now = now or timezone.now()
    with transaction.atomic():
        test = _locked(test)
        if test.submitted_at is None:
            _mark(test, now, auto=test.is_expired(now))
            if test.passed:  # badges for mock tests passed, after the commit
                learner_figures_changed_on_commit(learner=test.learner, kinds={"mock_tests_passed"})
    return test


def _mark(test: MockTest, now: datetime, *, auto: bool) -> None:
    """Precondition: inside a transaction, holding the test's lock."""
    result = mock_test_result(test=test)
    test.correct_count, test.passed = result.correct, result.passed
    test.submitted_at, test.auto_submitted = now, auto
    test.save(update_fields=["correct_count", "passed", "submitted_at", "auto_submitted"])
    event_record(
        EventKind.MOCK_TEST_SUBMITTED, learner=test.learner_id, course=test.course_id,
        test=test.pk, score=result.score, correct=result.correct, total=result.total,
        passed=result.passed, auto_submitted=auto,
    )  # fmt: skip
    session = StudySession.objects.filter(pk=test.session_id).first()
    if session is not None and session.completed_at is None:
        study_session_complete(session=session)  # +20 XP once, if anything was answered


def mock_tests_expired_submit(*, now: datetime | None = None) -> int:
    """Mark every open test whose time ran out (the beat's sweep; the next touch of a test
    marks it too, so nothing waits for this). Returns how many it marked."""
    now = now or timezone.now()
    due = MockTest.objects.filter(submitted_at=None, expires_at__lte=now).order_by("expires_at")
    marked = 0
    for test in due.only("pk", "learner_id"):
        marked += mock_test_submit(test=test, now=now).submitted_at == now
    return marked
