"""Reads of mock tests: the pools a blueprint draws from, a learner's tests, a test's result,
and the blueprint statistics the admin shows. Nothing here writes."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from apps.content.selectors import atoms_for_learners, revision_atom_snapshot

from .answer_keys import expected_response
from .marking import is_pass, score_percent
from .models import BlueprintSection, MockTest, MockTestBlueprint, MockTestItem


def blueprint_section_pool(section: BlueprintSection) -> dict:
    """Published, unarchived atoms of the section's unit (through its concepts) or concept:
    ``{atom_id: published_revision_id}``."""
    atoms = atoms_for_learners()
    if section.unit_id:
        atoms = atoms.filter(live_concepts__units=section.unit_id)
    else:
        atoms = atoms.filter(live_concepts=section.concept_id)
    return dict(atoms.values_list("pk", "published_revision_id").distinct())


def learner_last_test_atoms(*, learner, course) -> frozenset:
    """The atoms of the learner's most recent test of ``course`` (the next draw avoids them)."""
    last = MockTest.objects.filter(learner=learner, course=course).order_by("-started_at").first()
    if last is None:
        return frozenset()
    return frozenset(last.items.values_list("atom_id", flat=True))


def learner_mock_tests(*, learner) -> QuerySet[MockTest]:
    return (
        MockTest.objects.filter(learner=learner)
        .annotate(answered_count=Count("items", filter=Q(items__answered_at__isnull=False)))
        .order_by("-started_at")
    )


def mock_test_items(*, test: MockTest) -> list[MockTestItem]:
    return list(
        test.items.select_related("revision", "misconception", "unit", "concept").order_by(
            "position"
        )
    )


@dataclass(frozen=True)
class MockTestResult:
    correct: int
    total: int
    passed: bool
    score: float
    by_unit: list
    review: list


def mock_test_result(*, test: MockTest, items: list[MockTestItem] | None = None) -> MockTestResult:
    """The marks of ``test`` from its items: the submit service stores what this returns, and
    a read of an expired test not yet submitted gets the same figures without writing."""
    items = mock_test_items(test=test) if items is None else items
    sections: dict = {}
    review = []
    for item in items:
        right = bool(item.correct)  # unanswered counts as wrong
        key = (item.unit_id, item.concept_id, item.section_title)
        tally = sections.setdefault(key, {"correct": 0, "total": 0})
        tally["total"] += 1
        tally["correct"] += right
        misconception = item.misconception
        review.append(
            {
                "atom": str(item.atom_id),
                "position": item.position,
                "title": item.revision.snapshot["title"],
                "unit": str(item.unit_id) if item.unit_id else None,
                "answered": item.answered_at is not None,
                "correct": right,
                "response": item.response,
                "expected": expected_response(revision_atom_snapshot(item.revision)),
                "feedback": item.feedback,
                "misconception": (
                    {
                        "id": str(misconception.pk),
                        "name": misconception.name,
                        "remediation": misconception.remediation,
                    }
                    if misconception
                    else None
                ),
            }
        )
    correct = sum(tally["correct"] for tally in sections.values())
    by_unit = [
        {
            "unit": str(unit_id) if unit_id else None,
            "concept": str(concept_id) if concept_id else None,
            "title": title,
            **tally,
        }
        for (unit_id, concept_id, title), tally in sections.items()
    ]
    return MockTestResult(
        correct=correct,
        total=len(items),
        passed=is_pass(correct, len(items), test.pass_mark_percent),
        score=score_percent(correct, len(items)),
        by_unit=by_unit,
        review=review,
    )


def blueprint_pass_rate(blueprint: MockTestBlueprint) -> tuple[int, int]:
    """(tests marked, tests passed) of the blueprint."""
    figures = blueprint.tests.filter(submitted_at__isnull=False).aggregate(
        marked=Count("pk"), passed=Count("pk", filter=Q(passed=True))
    )
    return figures["marked"], figures["passed"]


def blueprint_item_statistics(blueprint: MockTestBlueprint) -> list[dict]:
    """Per atom the blueprint drew: times drawn, and of those in marked tests, how many were
    answered right (unanswered counts as wrong, as in the mark). Most drawn first."""
    rows = (
        MockTestItem.objects.filter(test__blueprint=blueprint)
        .values("atom_id", "atom__title")
        .annotate(
            drawn=Count("pk"),
            marked=Count("pk", filter=Q(test__submitted_at__isnull=False)),
            correct=Count("pk", filter=Q(test__submitted_at__isnull=False, correct=True)),
        )
        .order_by("-drawn", "atom__title")
    )
    return [
        {
            "atom_id": row["atom_id"],
            "title": row["atom__title"],
            "drawn": row["drawn"],
            "marked": row["marked"],
            "share_correct": row["correct"] / row["marked"] if row["marked"] else None,
        }
        for row in rows
    ]
