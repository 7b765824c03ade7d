from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.content.api import LearnerAtomSerializer
from apps.content.selectors import revisions_learner_views
from apps.core.openapi import error_response
from apps.core.sync_port import concepts_practised_elsewhere
from apps.curriculum.structure import course_graph
from apps.learning.models import StudySession

from .placement import placement_finish, placement_step
from .selectors import next_items_today


@extend_schema_serializer(component_name="DailyLimitsLeft")
class LimitsSerializer(serializers.Serializer):
    day = serializers.DateField(help_text="The caller's calendar day (their time zone).")
    new_per_day = serializers.IntegerField()
    reviews_per_day = serializers.IntegerField()
    new_left = serializers.IntegerField(
        help_text="New atoms still offered today (before answering these items)."
    )
    reviews_left = serializers.IntegerField(help_text="Reviews still offered today.")


class NextItemsView(APIView):
    """What to study next in a course: published atoms only, each with a score and the reason
    it was picked. Pass the current ``session`` to never get an atom twice in one session; a
    ``mistakes`` session offers only the atoms of the caller's open mistakes. Within the
    caller's daily limits (new atoms and reviews per local day, the course's or their own),
    unless ``extra=true``; ``limits`` says what is left today."""

    @extend_schema_serializer(component_name="NextItemsQuery")
    class QuerySerializer(serializers.Serializer):
        course = serializers.UUIDField()
        limit = serializers.IntegerField(min_value=1, max_value=50, default=10)
        session = serializers.UUIDField(required=False)
        extra = serializers.BooleanField(
            default=False,
            help_text="Study past today's limits (what is left is still reported).",
        )

    @extend_schema_serializer(component_name="NextItem")
    class ItemSerializer(serializers.Serializer):
        atom = LearnerAtomSerializer()
        reason = serializers.CharField()
        score = serializers.FloatField()

    @extend_schema_serializer(component_name="NextItems")
    class OutputSerializer(serializers.Serializer):
        items = serializers.ListField(child=serializers.DictField())
        limits = LimitsSerializer()

    @extend_schema(
        summary="Next items for the caller",
        tags=["scheduler"],
        parameters=[QuerySerializer],
        responses={200: OutputSerializer, 404: error_response("No such published course.")},
    )
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        course = course_graph(params["course"]).course  # kept per process, never stale
        if course is None or not course.is_published:
            raise NotFound("No such published course.")
        chosen = next_items_today(
            learner=request.user,
            course=course,
            limit=params["limit"],
            session_id=params.get("session"),
            exclude_concepts=concepts_practised_elsewhere(request.user),
            extra=params["extra"],
        )
        views = revisions_learner_views(item.revision_id for item in chosen.items)
        limits = chosen.limits
        return Response(
            {
                "items": [
                    {
                        "atom": _absolute_media(request, views[item.revision_id]),
                        "reason": item.reason,
                        "score": item.score,
                    }
                    for item in chosen.items
                ],
                "limits": {
                    "day": limits.day.isoformat(),
                    "new_per_day": limits.new_per_day,
                    "reviews_per_day": limits.reviews_per_day,
                    "new_left": limits.new_left,
                    "reviews_left": limits.reviews_left,
                },
            }
        )


def _absolute_media(request, view: dict) -> dict:
    """A kept rendering with its media URLs made absolute for this request (a copy: the kept
    one is shared)."""
    if not view["media"]:
        return view
    media = [{**m, "url": request.build_absolute_uri(m["url"])} for m in view["media"]]
    return {**view, "media": media}


def _placement_session(request, session_id):
    return get_object_or_404(
        StudySession,
        pk=session_id,
        learner=request.user,
        kind="placement",
        course__isnull=False,
        archived_in__isnull=True,
    )


def _placement_body(step, request) -> dict:
    atom = (
        LearnerAtomSerializer(step.atom, context={"request": request}).data if step.atom else None
    )
    return {"done": step.done, "theta": round(step.theta, 4), "se": round(step.se, 4),
            "answered": step.answered, "atom": atom}  # fmt: skip


class PlacementNextView(APIView):
    """Adaptive placement test. Start a session with ``kind="placement"`` and a ``course``,
    then alternate: GET this for the next atom, POST the answer to /attempts/ with the session.
    When ``done`` is true, POST /scheduler/placement/finish/: θ seeds the learner's concept
    states and the session completes. This GET only reads."""

    @extend_schema_serializer(component_name="PlacementQuery")
    class QuerySerializer(serializers.Serializer):
        session = serializers.UUIDField()

    @extend_schema_serializer(component_name="PlacementStep")
    class OutputSerializer(serializers.Serializer):
        done = serializers.BooleanField()
        theta = serializers.FloatField()
        se = serializers.FloatField()
        answered = serializers.IntegerField()
        atom = LearnerAtomSerializer(allow_null=True)

    @extend_schema(
        summary="Next placement item, or the placement result",
        tags=["scheduler"],
        parameters=[QuerySerializer],
        responses={
            200: OutputSerializer,
            404: error_response("No open placement session of yours with this id."),
        },
    )
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        session = _placement_session(request, query.validated_data["session"])
        return Response(_placement_body(placement_step(session=session), request))


class PlacementFinishView(APIView):
    """Apply a finished placement test: θ seeds the course's concept states and the session
    completes. Idempotent: finishing again returns the same result and changes nothing."""

    @extend_schema_serializer(component_name="PlacementFinish")
    class InputSerializer(serializers.Serializer):
        session = serializers.UUIDField()

    @extend_schema(
        summary="Finish the placement test (seeds concept states, completes the session)",
        tags=["scheduler"],
        request=InputSerializer,
        responses={
            200: PlacementNextView.OutputSerializer,
            404: error_response("No open placement session of yours with this id."),
            409: error_response("The test is not finished yet (placement_not_done)."),
        },
    )
    def post(self, request):
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        session = _placement_session(request, payload.validated_data["session"])
        return Response(_placement_body(placement_finish(session=session), request))
