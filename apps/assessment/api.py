"""The learner's mock tests: start one, answer its items, submit it, list and read them.

Before a test is over nothing shows a verdict: answers are acknowledged, not marked. The
result (score, pass, per unit, and the review with the right answers) appears once the test
is submitted, or once its time is up.
"""

from dataclasses import dataclass

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.content.api import LearnerAtomSerializer
from apps.core.openapi import error_response
from apps.curriculum.models import Course

from .models import MockTest
from .selectors import learner_mock_tests, mock_test_items, mock_test_result
from .services import mock_test_answer, mock_test_start, mock_test_submit


@dataclass(frozen=True)
class PinnedAtom:
    """An item as the learner-safe rendering reads an atom: with the revision the test pinned
    in place of the atom's current published one."""

    pk: object
    published_revision: object


def _status(test: MockTest, now) -> str:
    if test.submitted_at is not None:
        return "submitted"
    return "expired" if test.is_expired(now) else "in_progress"


STATUS_HELP = (
    "`in_progress`; `expired`: the time is up and the test is being marked with the answers "
    "it has (it takes no more); `submitted`: marked."
)


# Named in the schema (settings: ENUM_NAME_OVERRIDES), apart from other "status" enums.
MOCK_TEST_STATUSES = ("in_progress", "expired", "submitted")


@extend_schema_serializer(component_name="MockTestSummary")
class MockTestSummarySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    course = serializers.UUIDField()
    status = serializers.ChoiceField(choices=MOCK_TEST_STATUSES, help_text=STATUS_HELP)
    started_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    auto_submitted = serializers.BooleanField()
    time_limit_s = serializers.IntegerField()
    pass_mark = serializers.IntegerField(help_text="Percent of items right needed to pass.")
    item_count = serializers.IntegerField()
    score = serializers.FloatField(allow_null=True, help_text="Percent right, once marked.")
    passed = serializers.BooleanField(allow_null=True)

    def to_representation(self, test: MockTest):
        now = self.context.get("now") or timezone.now()
        marked = test.submitted_at is not None
        return {
            "id": str(test.pk),
            "course": str(test.course_id),
            "status": _status(test, now),
            "started_at": test.started_at.isoformat(),
            "expires_at": test.expires_at.isoformat(),
            "submitted_at": test.submitted_at.isoformat() if marked else None,
            "auto_submitted": test.auto_submitted,
            "time_limit_s": test.time_limit_s,
            "pass_mark": test.pass_mark_percent,
            "item_count": test.item_count,
            "score": (
                round(100 * test.correct_count / test.item_count, 2)
                if marked and test.item_count
                else (0.0 if marked else None)
            ),
            "passed": test.passed if marked else None,
        }


@extend_schema_serializer(component_name="MockTestSectionResult")
class SectionResultSerializer(serializers.Serializer):
    unit = serializers.UUIDField(allow_null=True)
    concept = serializers.UUIDField(allow_null=True, help_text="For a section by concept.")
    title = serializers.CharField()
    correct = serializers.IntegerField()
    total = serializers.IntegerField()


@extend_schema_serializer(component_name="MockTestMisconception")
class MisconceptionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    remediation = serializers.CharField(allow_blank=True)


@extend_schema_serializer(component_name="MockTestReviewItem")
class ReviewItemSerializer(serializers.Serializer):
    atom = serializers.UUIDField()
    position = serializers.IntegerField()
    title = serializers.CharField()
    unit = serializers.UUIDField(allow_null=True)
    answered = serializers.BooleanField()
    correct = serializers.BooleanField()
    response = serializers.JSONField(allow_null=True, help_text="What the learner answered.")
    expected = serializers.DictField(
        help_text="The right answer, shaped like a response (a flashcard: its back)."
    )
    feedback = serializers.CharField(allow_blank=True)
    misconception = MisconceptionSerializer(allow_null=True)


@extend_schema_serializer(component_name="MockTestResult")
class MockTestResultSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    score = serializers.FloatField(help_text="Percent of items right (unanswered are wrong).")
    correct = serializers.IntegerField()
    total = serializers.IntegerField()
    pass_mark = serializers.IntegerField()
    passed = serializers.BooleanField(help_text="score >= pass_mark: equal passes.")
    submitted_at = serializers.DateTimeField(allow_null=True)
    auto_submitted = serializers.BooleanField()
    by_unit = SectionResultSerializer(many=True)
    review = ReviewItemSerializer(many=True)


def result_body(test: MockTest, items=None) -> dict:
    result = mock_test_result(test=test, items=items)
    return {
        "id": str(test.pk),
        "score": result.score,
        "correct": result.correct,
        "total": result.total,
        "pass_mark": test.pass_mark_percent,
        "passed": result.passed,
        "submitted_at": test.submitted_at.isoformat() if test.submitted_at else None,
        "auto_submitted": test.auto_submitted or test.submitted_at is None,
        "by_unit": result.by_unit,
        "review": result.review,
    }


@extend_schema_serializer(component_name="MockTest")
class MockTestDetailSerializer(MockTestSummarySerializer):
    items = serializers.ListField(
        child=LearnerAtomSerializer(), help_text="Learner-safe, as pinned when drawn."
    )
    answered = serializers.ListField(
        child=serializers.UUIDField(), help_text="Atoms answered so far (never the verdicts)."
    )
    result = MockTestResultSerializer(
        allow_null=True, help_text="Once the test is submitted or its time is up."
    )

    def to_representation(self, test: MockTest):
        now = self.context.get("now") or timezone.now()
        items = mock_test_items(test=test)
        rendering = LearnerAtomSerializer(context=self.context)
        over = test.submitted_at is not None or test.is_expired(now)
        return {
            **super().to_representation(test),
            "items": [
                rendering.to_representation(PinnedAtom(item.atom_id, item.revision))
                for item in items
            ],
            "answered": [str(item.atom_id) for item in items if item.answered_at is not None],
            # read-only: an expired test not yet marked shows what the marking will store
            "result": result_body(test, items) if over else None,
        }


def _learner_test(request, test_id) -> MockTest:
    return get_object_or_404(MockTest, pk=test_id, learner=request.user)


NOT_YOURS = "No mock test of yours with this id."


class MockTestListView(generics.ListAPIView):
    """The caller's mock tests, newest first; POST starts one."""

    serializer_class = MockTestSummarySerializer

    def get_queryset(self):
        return learner_mock_tests(learner=self.request.user)

    @extend_schema(summary="The caller's mock tests", tags=["mock tests"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema_serializer(component_name="MockTestStart")
    class InputSerializer(serializers.Serializer):
        course = serializers.UUIDField()

    @extend_schema(
        summary="Start a timed mock test of a course",
        tags=["mock tests"],
        request=InputSerializer,
        responses={
            201: MockTestDetailSerializer,
            404: error_response("No such published course."),
            409: error_response(
                "blueprint_missing (the course has no mock test), blueprint_pool_too_small "
                "(details.sections names each unit or concept with needed and available "
                "counts), or test_in_progress (details.test is the open one)."
            ),
        },
    )
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        course = get_object_or_404(Course, pk=payload.validated_data["course"], is_published=True)
        test = mock_test_start(learner=request.user, course=course)
        body = MockTestDetailSerializer(test, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class MockTestDetailView(APIView):
    @extend_schema(
        summary="One of the caller's mock tests (items, progress, and the result once over)",
        tags=["mock tests"],
        responses={200: MockTestDetailSerializer, 404: error_response(NOT_YOURS)},
    )
    def get(self, request, test_id):
        test = _learner_test(request, test_id)
        return Response(MockTestDetailSerializer(test, context={"request": request}).data)


class MockTestAnswerView(APIView):
    """Answer one item. The answer is graded and stored as an attempt, but the reply says
    only that it was recorded. Safe to retry: the same ``client_attempt_id`` and body is a
    200 with the same reply; the same id with another body is a 409."""

    @extend_schema_serializer(component_name="MockTestAnswerInput")
    class InputSerializer(serializers.Serializer):
        client_attempt_id = serializers.UUIDField()
        atom = serializers.UUIDField()
        response = serializers.JSONField(help_text="As for attempts, by the atom's type.")
        time_taken_ms = serializers.IntegerField(min_value=0, max_value=86_400_000, default=0)

    @extend_schema_serializer(component_name="MockTestAnswer")
    class OutputSerializer(serializers.Serializer):
        test = serializers.UUIDField()
        atom = serializers.UUIDField()
        client_attempt_id = serializers.UUIDField()
        response = serializers.JSONField()
        answered_at = serializers.DateTimeField()

    @extend_schema(
        summary="Answer an item of a mock test (idempotent; no verdict before the end)",
        tags=["mock tests"],
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OutputSerializer,
            400: error_response(
                "validation_error: a response that does not fit the atom type "
                "(response.choice...), or an atom that is not an item of this test."
            ),
            404: error_response(NOT_YOURS),
            409: error_response(
                "test_expired (the time is up; the test has been marked), test_submitted, "
                "item_already_answered, conflict (client_attempt_id reused with another "
                "answer) or test_session_set_aside (a progress reset)."
            ),
        },
    )
    def post(self, request, test_id):
        test = _learner_test(request, test_id)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        outcome = mock_test_answer(
            test=test,
            atom_id=data["atom"],
            response=data["response"],
            client_attempt_id=data["client_attempt_id"],
            time_taken_ms=data["time_taken_ms"],
        )
        item = outcome.item
        body = {
            "test": str(test.pk),
            "atom": str(item.atom_id),
            "client_attempt_id": str(item.client_attempt_id),
            "response": item.response,
            "answered_at": item.answered_at.isoformat(),
        }
        code = status.HTTP_201_CREATED if outcome.status == "created" else status.HTTP_200_OK
        return Response(body, status=code)


class MockTestSubmitView(APIView):
    """Mark the test with the answers it has: unanswered items count as wrong. Submitting
    again returns the same result."""

    @extend_schema(
        summary="Submit a mock test and get its result (idempotent)",
        tags=["mock tests"],
        request=None,
        responses={200: MockTestResultSerializer, 404: error_response(NOT_YOURS)},
    )
    def post(self, request, test_id):
        test = mock_test_submit(test=_learner_test(request, test_id))
        return Response(result_body(test))
