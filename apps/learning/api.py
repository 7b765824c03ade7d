from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import Conflict, error_body
from apps.core.openapi import error_response
from apps.core.replica import replica_reads
from apps.core.serializer_fields import StrictBooleanField
from apps.core.sync_port import progress_read
from apps.curriculum.models import Course

from .mastery import STATUSES as MASTERY_STATUSES
from .mistakes import learner_mistakes_grouped
from .models import Attempt, SessionKind, StudySession, StudyTask
from .selectors import (
    FORECAST_MAX_DAYS,
    RETENTION_MAX_MONTHS,
    learner_concept_mastery,
    learner_due_forecast,
    learner_progress,
    learner_retention,
    learner_statistics,
    learner_tasks,
)
from .services.attempts import AttemptInput, attempts_ingest
from .services.progress import progress_reset
from .services.sessions import study_session_complete, study_session_start
from .services.tasks import KNOWN_STATUSES, SETTABLE_STATUSES, study_task_status_set


@extend_schema_serializer(component_name="GradedAttempt")
class AttemptResultSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    client_attempt_id = serializers.UUIDField()
    correct = serializers.BooleanField()
    score = serializers.FloatField()
    quality = serializers.IntegerField()
    feedback = serializers.CharField()
    misconception = serializers.DictField(allow_null=True)
    next_review_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, attempt: Attempt):
        misconception = attempt.misconception
        return {
            "id": str(attempt.pk),
            "client_attempt_id": str(attempt.client_attempt_id),
            "correct": attempt.correct,
            "score": attempt.score,
            "quality": attempt.quality,
            "feedback": attempt.feedback,
            "misconception": (
                {
                    "id": str(misconception.pk),
                    "name": misconception.name,
                    "remediation": misconception.remediation,
                }
                if misconception
                else None
            ),
            "next_review_at": attempt.scheduler_state_after.get("due"),
        }


class AttemptInputSerializer(serializers.Serializer):
    client_attempt_id = serializers.UUIDField()
    atom = serializers.UUIDField()
    response = serializers.JSONField()
    time_taken_ms = serializers.IntegerField(min_value=0, max_value=86_400_000, default=0)
    session = serializers.UUIDField(required=False, allow_null=True)
    answered_at = serializers.DateTimeField(required=False, allow_null=True)
    confidence = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)
    hints_used = serializers.IntegerField(min_value=0, max_value=100, default=0)

    def to_input(self) -> AttemptInput:
        data = self.validated_data
        return AttemptInput(
            client_attempt_id=data["client_attempt_id"],
            atom_id=data["atom"],
            response=data["response"],
            time_taken_ms=data["time_taken_ms"],
            session_id=data.get("session"),
            answered_at=data.get("answered_at"),
            confidence=data.get("confidence"),
            hints_used=data["hints_used"],
        )


class AttemptView(APIView):
    """Record one graded attempt. Safe to retry: the same ``client_attempt_id`` returns the
    original result (200); reusing it for a different answer is a 409."""

    @extend_schema(
        summary="Submit an attempt (idempotent)",
        tags=["attempts"],
        request=AttemptInputSerializer,
        responses={
            201: AttemptResultSerializer,
            200: AttemptResultSerializer,
            404: error_response("Unknown or unpublished atom, or not your session."),
            409: error_response("client_attempt_id already used with a different payload."),
        },
    )
    def post(self, request):
        payload = AttemptInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        [outcome] = attempts_ingest(learner=request.user, inputs=[payload.to_input()])
        if outcome.status == "conflict":
            raise Conflict("This client_attempt_id was already used for a different attempt.")
        if outcome.status == "invalid":
            if outcome.code == "not_found":
                raise NotFound(next(iter(outcome.errors.values()))[0])
            raise ValidationError(outcome.errors)
        code = status.HTTP_201_CREATED if outcome.status == "created" else status.HTTP_200_OK
        return Response(AttemptResultSerializer(outcome.attempt).data, status=code)


class AttemptBatchView(APIView):
    """Offline sync: up to 500 attempts in any order. Each row is graded and reported on its
    own; rows are applied in answer-time order, so scheduling matches a live session."""

    @extend_schema_serializer(component_name="AttemptBatchRequest")
    class InputSerializer(serializers.Serializer):
        # Rows are checked one by one below: a null row is that row's error, not the batch's.
        attempts = serializers.ListField(
            child=serializers.JSONField(allow_null=True), allow_empty=False
        )

        def validate_attempts(self, rows):
            if len(rows) > settings.ATTEMPT_BATCH_MAX:
                raise serializers.ValidationError(
                    f"At most {settings.ATTEMPT_BATCH_MAX} attempts per batch; got {len(rows)}."
                )
            return rows

    @extend_schema_serializer(component_name="AttemptBatchRow")
    class RowSerializer(serializers.Serializer):
        index = serializers.IntegerField()
        client_attempt_id = serializers.CharField(allow_null=True)
        status = serializers.ChoiceField(choices=["created", "replayed", "conflict", "invalid"])
        http_status = serializers.IntegerField()
        attempt = AttemptResultSerializer(allow_null=True)
        error = serializers.DictField(allow_null=True)

    @extend_schema_serializer(component_name="AttemptBatchResult")
    class OutputSerializer(serializers.Serializer):
        results = serializers.ListField(child=serializers.DictField())
        summary = serializers.DictField(child=serializers.IntegerField())

    @extend_schema(
        summary="Sync a batch of offline attempts",
        tags=["attempts"],
        request=InputSerializer,
        responses={200: OutputSerializer},
    )
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        rows = payload.validated_data["attempts"]
        results: list[dict | None] = [None] * len(rows)
        inputs, positions = [], []
        for index, row in enumerate(rows):
            parsed = AttemptInputSerializer(data=row if isinstance(row, dict) else {})
            if not isinstance(row, dict) or not parsed.is_valid():
                errors = parsed.errors if isinstance(row, dict) else {"row": ["Must be an object."]}
                results[index] = _row(index, row, "invalid", 400, error=error_body(
                    "validation_error", "The attempt is invalid.", errors))  # fmt: skip
                continue
            inputs.append(parsed.to_input())
            positions.append(index)
        for index, outcome in zip(positions, attempts_ingest(learner=request.user, inputs=inputs),
                                  strict=True):  # fmt: skip
            results[index] = _outcome_row(index, rows[index], outcome)
        summary = {name: 0 for name in ("created", "replayed", "conflict", "invalid")}
        for row in results:
            summary[row["status"]] += 1
        return Response({"results": results, "summary": summary})


def _row(index, row, row_status, http_status, attempt=None, error=None) -> dict:
    client_id = row.get("client_attempt_id") if isinstance(row, dict) else None
    return {
        "index": index,
        "client_attempt_id": str(client_id) if client_id is not None else None,
        "status": row_status,
        "http_status": http_status,
        "attempt": AttemptResultSerializer(attempt).data if attempt else None,
        "error": error,
    }


def _outcome_row(index, row, outcome) -> dict:
    if outcome.status == "created":
        return _row(index, row, "created", 201, attempt=outcome.attempt)
    if outcome.status == "replayed":
        return _row(index, row, "replayed", 200, attempt=outcome.attempt)
    if outcome.status == "conflict":
        error = error_body("conflict", "client_attempt_id already used for a different attempt.")
        return _row(index, row, "conflict", 409, error=error)
    http_status = 404 if outcome.code == "not_found" else 400
    code = "not_found" if outcome.code == "not_found" else "validation_error"
    error = error_body(code, "The attempt was not recorded.", outcome.errors)
    return _row(index, row, "invalid", http_status, error=error)


class SessionStartView(APIView):
    @extend_schema_serializer(component_name="StudySessionStart")
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=SessionKind.choices, default="practice")
        course = serializers.UUIDField(required=False, allow_null=True)
        device = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
        app_version = serializers.CharField(
            max_length=40, required=False, allow_blank=True, default=""
        )
        started_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema_serializer(component_name="StudySession")
    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = StudySession
            fields = ("id", "kind", "course", "started_at", "completed_at", "device", "app_version")

    @extend_schema(
        summary="Start a study session",
        description="A `mistakes` session needs a `course`: next items in it "
        "(`/scheduler/next/?session=`) draw only the atoms of the caller's open mistakes there.",
        tags=["sessions"],
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            400: error_response("An invalid field (a mistakes session without a course)."),
            404: error_response("No such published course."),
            409: error_response(
                "A mistakes session in a course without open mistakes (no_open_mistakes)."
            ),
        },
    )
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        course_id = data.pop("course", None)
        course = get_object_or_404(Course, pk=course_id, is_published=True) if course_id else None
        session = study_session_start(learner=request.user, course=course, **data)
        return Response(self.OutputSerializer(session).data, status=status.HTTP_201_CREATED)


class SessionCompleteView(APIView):
    @extend_schema_serializer(component_name="StudySessionComplete")
    class InputSerializer(serializers.Serializer):
        completed_at = serializers.DateTimeField(required=False, allow_null=True)

    @extend_schema(
        summary="Complete a study session (idempotent)",
        tags=["sessions"],
        request=InputSerializer,
        responses={
            200: SessionStartView.OutputSerializer,
            409: error_response(
                "A placement session: finish it with POST /api/v1/scheduler/placement/finish/ "
                "(placement_finish_required)."
            ),
        },
    )
    def post(self, request, session_id):
        session = get_object_or_404(
            StudySession, pk=session_id, learner=request.user, archived_in__isnull=True
        )
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        session = study_session_complete(
            session=session, completed_at=payload.validated_data.get("completed_at")
        )
        return Response(SessionStartView.OutputSerializer(session).data)


@extend_schema_serializer(component_name="StreakFreeze")
class StreakFreezeSerializer(serializers.Serializer):
    """apps/learning/streaks.py: a single missed day is kept once an ISO week, when the 7 days
    before it earned ``xp_per_freeze`` XP."""

    held = serializers.IntegerField(help_text="1 if missing tomorrow would be kept, else 0.")
    used = serializers.IntegerField(help_text="Missed days kept so far.")
    kept_days = serializers.ListField(child=serializers.DateField())
    xp_last_7_days = serializers.IntegerField()
    xp_per_freeze = serializers.IntegerField()


class StreakSerializer(serializers.Serializer):
    current_streak = serializers.IntegerField()
    longest_streak = serializers.IntegerField()
    practice_dates = serializers.ListField(child=serializers.DateField())
    timezone = serializers.CharField()
    freeze = StreakFreezeSerializer(
        required=False, help_text="Absent while the v1 platform serves progress."
    )


@extend_schema_serializer(component_name="ConceptMastery")
class ConceptMasterySerializer(serializers.Serializer):
    """One concept of the learner's courses as the scheduler sees it (apps/learning/mastery.py)."""

    concept = serializers.UUIDField()
    text = serializers.CharField()
    course = serializers.UUIDField()
    p_known = serializers.FloatField(help_text="BKT's P(known), 0..1.")
    assessed = serializers.BooleanField(
        help_text="False: not practised yet, p_known is the scheduler's starting prior."
    )
    status = serializers.ChoiceField(choices=MASTERY_STATUSES)
    mastery_threshold = serializers.FloatField(help_text="The course's: mastered at or above.")
    unmastered_prerequisites = serializers.ListField(child=serializers.UUIDField())


@extend_schema_serializer(component_name="Progress")
class ProgressSerializer(serializers.Serializer):
    attempts = serializers.IntegerField()
    correct = serializers.IntegerField()
    accuracy = serializers.FloatField(allow_null=True)
    time_spent_ms = serializers.IntegerField()
    xp_total = serializers.IntegerField()
    sessions = serializers.IntegerField()
    sessions_completed = serializers.IntegerField()
    atoms_studied = serializers.IntegerField()
    atoms_due = serializers.IntegerField()
    streak = StreakSerializer()
    concepts = ConceptMasterySerializer(many=True)


class AccuracySerializer(serializers.Serializer):
    attempts = serializers.IntegerField()
    correct = serializers.IntegerField()
    accuracy = serializers.FloatField(allow_null=True)


class DayStatisticsSerializer(AccuracySerializer):
    date = serializers.DateField()
    time_spent_ms = serializers.IntegerField()


class TypeStatisticsSerializer(AccuracySerializer):
    atom_type = serializers.CharField()


class ConceptStatisticsSerializer(AccuracySerializer):
    concept = serializers.UUIDField()
    text = serializers.CharField()
    mastery = serializers.FloatField(
        help_text="(correct + 1) / (attempts + 2), from accuracy; the scheduler's P(known) is "
        "in concepts."
    )


class OverallStatisticsSerializer(AccuracySerializer):
    time_spent_ms = serializers.IntegerField()


@extend_schema_serializer(component_name="ProgressStatistics")
class StatisticsSerializer(serializers.Serializer):
    overall = OverallStatisticsSerializer()
    by_day = DayStatisticsSerializer(many=True)
    by_atom_type = TypeStatisticsSerializer(many=True)
    by_concept = ConceptStatisticsSerializer(many=True)
    concepts = ConceptMasterySerializer(many=True)


@extend_schema_serializer(component_name="ProgressResetResult")
class ResetResultSerializer(serializers.Serializer):
    snapshot = serializers.UUIDField()
    archived_attempts = serializers.IntegerField()
    archived_sessions = serializers.IntegerField()
    archived_xp = serializers.IntegerField()
    restorable = serializers.BooleanField()


@replica_reads
class ProgressView(APIView):
    @extend_schema(
        summary="The caller's progress: totals, XP, streaks, due atoms",
        tags=["progress"],
        responses={200: ProgressSerializer},
    )
    def get(self, request):
        # During the migration the flags may serve this from v1 (and shadow-read v2).
        learner = request.user
        progress = progress_read(learner, v2_answer=lambda: learner_progress(learner))
        # P(known) lives in v2's scheduler alone, whichever system serves the totals.
        return Response({**progress, "concepts": learner_concept_mastery(learner)})


@replica_reads
class ProgressStatisticsView(APIView):
    @extend_schema(
        summary="Accuracy overall, by day, by atom type and by concept (with mastery)",
        tags=["progress"],
        responses={200: StatisticsSerializer},
    )
    def get(self, request):
        return Response(learner_statistics(request.user))


class ProgressResetView(APIView):
    @extend_schema_serializer(component_name="ProgressReset")
    class InputSerializer(serializers.Serializer):
        confirm = StrictBooleanField()

        def validate_confirm(self, value):
            if value is not True:
                raise serializers.ValidationError('Send {"confirm": true} to reset your progress.')
            return value

    @extend_schema(
        summary="Reset the caller's progress (kept as a restorable snapshot)",
        tags=["progress"],
        request=InputSerializer,
        responses={200: ResetResultSerializer},
    )
    def post(self, request):
        self.InputSerializer(data=request.data).is_valid(raise_exception=True)
        snapshot = progress_reset(learner=request.user)
        return Response(
            {
                "snapshot": str(snapshot.pk),
                "archived_attempts": snapshot.attempt_count,
                "archived_sessions": snapshot.session_count,
                "archived_xp": snapshot.xp_total,
                "restorable": True,
            }
        )


def _published_course(course_id) -> Course:
    return get_object_or_404(Course, pk=course_id, is_published=True)


@extend_schema_serializer(component_name="DueForecastDay")
class DueForecastDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    due = serializers.IntegerField()


@extend_schema_serializer(component_name="Recall")
class RecallSerializer(serializers.Serializer):
    reviews = serializers.IntegerField()
    recalled = serializers.IntegerField()
    retention = serializers.FloatField(allow_null=True, help_text="recalled / reviews.")


@extend_schema_serializer(component_name="RetentionMonth")
class RetentionMonthSerializer(RecallSerializer):
    month = serializers.CharField(help_text="YYYY-MM of the caller's calendar.")


@replica_reads
class ProgressForecastView(APIView):
    """Atoms due per day of the caller's calendar (their time zone, days starting at
    SCHEDULER_DAY_START_HOUR), today first; overdue atoms count on today."""

    @extend_schema_serializer(component_name="DueForecastQuery")
    class QuerySerializer(serializers.Serializer):
        course = serializers.UUIDField()
        days = serializers.IntegerField(min_value=1, max_value=FORECAST_MAX_DAYS, default=30)

    @extend_schema_serializer(component_name="DueForecast")
    class OutputSerializer(serializers.Serializer):
        course = serializers.UUIDField()
        timezone = serializers.CharField()
        day_start_hour = serializers.IntegerField()
        today = serializers.DateField()
        total = serializers.IntegerField(help_text="The days' sum: atoms due in the window.")
        overdue = serializers.IntegerField(help_text="Already due now (counted on today).")
        days = DueForecastDaySerializer(many=True)

    @extend_schema(
        summary="Atoms due per day of the caller's calendar",
        tags=["progress"],
        parameters=[QuerySerializer],
        responses={200: OutputSerializer, 404: error_response("No such published course.")},
    )
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        course = _published_course(params["course"])
        return Response(learner_due_forecast(request.user, course, days=params["days"]))


@replica_reads
class ProgressRetentionView(APIView):
    """True retention per month: the share of the caller's reviews (answers on an atom first
    answered on an earlier day) that were correct, against the course's desired retention."""

    @extend_schema_serializer(component_name="RetentionQuery")
    class QuerySerializer(serializers.Serializer):
        course = serializers.UUIDField()
        months = serializers.IntegerField(min_value=1, max_value=RETENTION_MAX_MONTHS, default=12)

    @extend_schema_serializer(component_name="Retention")
    class OutputSerializer(serializers.Serializer):
        course = serializers.UUIDField()
        timezone = serializers.CharField()
        day_start_hour = serializers.IntegerField()
        target_retention = serializers.FloatField(help_text="The course's desired retention.")
        algorithm = serializers.CharField()
        overall = RecallSerializer()
        months = RetentionMonthSerializer(many=True)

    @extend_schema(
        summary="The caller's true retention per month against the course's target",
        tags=["progress"],
        parameters=[QuerySerializer],
        responses={200: OutputSerializer, 404: error_response("No such published course.")},
    )
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        course = _published_course(params["course"])
        return Response(learner_retention(request.user, course, months=params["months"]))


@extend_schema_serializer(component_name="StudyTask")
class StudyTaskSerializer(serializers.ModelSerializer):
    class Meta:
        model = StudyTask
        fields = ("id", "title", "course", "due_at", "priority", "status", "signals", "created_at")


class StudyTaskListView(ListAPIView):
    """The caller's study tasks (v1's planner, migrated), soonest due first."""

    serializer_class = StudyTaskSerializer

    @extend_schema_serializer(component_name="StudyTaskQuery")
    class QuerySerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=KNOWN_STATUSES, required=False)

    @extend_schema(
        summary="The caller's study tasks",
        tags=["tasks"],
        parameters=[QuerySerializer],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema's generation: no caller
            return StudyTask.objects.none()
        query = self.QuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return learner_tasks(self.request.user, status=query.validated_data.get("status"))


class StudyTaskView(APIView):
    @extend_schema_serializer(component_name="StudyTaskUpdate")
    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=SETTABLE_STATUSES)

    @extend_schema(
        summary="Mark one of the caller's study tasks done or dismissed",
        tags=["tasks"],
        request=InputSerializer,
        responses={
            200: StudyTaskSerializer,
            404: error_response("No study task of yours with this id."),
        },
    )
    def patch(self, request, task_id):
        task = get_object_or_404(StudyTask, pk=task_id, learner=request.user)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        task = study_task_status_set(
            task=task, status=payload.validated_data["status"], by=request.user
        )
        return Response(StudyTaskSerializer(task).data)


@extend_schema_serializer(component_name="MistakeConcept")
class MistakeConceptSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    text = serializers.CharField()


@extend_schema_serializer(component_name="MistakeMisconception")
class MistakeMisconceptionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    remediation = serializers.CharField()


@extend_schema_serializer(component_name="MistakeAtom")
class MistakeAtomSerializer(serializers.Serializer):
    atom = serializers.UUIDField()
    mistakes = serializers.IntegerField(help_text="Open mistakes on the atom in this group.")
    correct_since = serializers.IntegerField(
        help_text="Correct answers since (the least of its open mistakes); two clear one."
    )


@extend_schema_serializer(component_name="MistakeGroup")
class MistakeGroupSerializer(serializers.Serializer):
    concept = MistakeConceptSerializer()
    misconception = MistakeMisconceptionSerializer(
        allow_null=True, help_text="Null: the answers chosen named no misconception."
    )
    mistakes = serializers.IntegerField()
    last_at = serializers.DateTimeField()
    atoms = MistakeAtomSerializer(many=True)


@replica_reads
class MistakesView(APIView):
    """The caller's open mistakes in a course, grouped by concept and misconception. A wrong
    answer records one; two later correct answers on the same atom clear it. Practise them in
    a `mistakes` session (POST /sessions/ with `"kind": "mistakes"`)."""

    @extend_schema_serializer(component_name="MistakesQuery")
    class QuerySerializer(serializers.Serializer):
        course = serializers.UUIDField()

    @extend_schema_serializer(component_name="Mistakes")
    class OutputSerializer(serializers.Serializer):
        course = serializers.UUIDField()
        open = serializers.IntegerField(help_text="Open mistakes in the course.")
        atoms = serializers.IntegerField(help_text="Distinct atoms with an open mistake.")
        groups = MistakeGroupSerializer(many=True)

    @extend_schema(
        summary="The caller's open mistakes, grouped by concept and misconception",
        tags=["mistakes"],
        parameters=[QuerySerializer],
        responses={200: OutputSerializer, 404: error_response("No such published course.")},
    )
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        course = _published_course(query.validated_data["course"])
        body = learner_mistakes_grouped(learner=request.user, course=course)
        return Response(self.OutputSerializer(body).data)
