"""GET /api/v1/analytics/events/: the event log for staff who may export it, in keyset pages
(apps/analytics/selectors.py says why a page never changes once served)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .permissions import EXPORT_PERMISSION
from .schema import EventKind
from .selectors import MAX_PAGE_SIZE, PAGE_SIZE, Cursor, event_document, events_page


class CanExportEvents(BasePermission):
    message = "Exporting analytics events needs the analytics.export_events permission."

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm(EXPORT_PERMISSION)


@extend_schema_serializer(component_name="AnalyticsEvent")
class AnalyticsEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=EventKind.choices)
    schema_version = serializers.IntegerField(help_text="The kind's payload version.")
    occurred_at = serializers.DateTimeField(help_text="When it was recorded (after commit).")
    learner = serializers.UUIDField(allow_null=True)
    course = serializers.UUIDField(allow_null=True)
    payload = serializers.DictField(help_text="The kind's fields (README: Analytics events).")


class AnalyticsEventListView(APIView):
    permission_classes = [IsAuthenticated, CanExportEvents]

    @extend_schema_serializer(component_name="AnalyticsEventsQuery")
    class QuerySerializer(serializers.Serializer):
        after = serializers.CharField(
            required=False, help_text="The next_cursor of the previous page."
        )
        limit = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, default=PAGE_SIZE)
        kind = serializers.ChoiceField(choices=EventKind.choices, required=False)
        since = serializers.DateTimeField(required=False, help_text="Inclusive.")
        until = serializers.DateTimeField(required=False, help_text="Exclusive.")

        def validate_after(self, value: str) -> Cursor:
            try:
                return Cursor.decode(value)
            except DjangoValidationError:
                raise serializers.ValidationError("Not a cursor this export handed out.") from None

        def validate(self, attrs):
            since, until = attrs.get("since"), attrs.get("until")
            if since and until and since >= until:
                raise serializers.ValidationError({"until": ["Must be after since."]})
            return attrs

    @extend_schema_serializer(component_name="AnalyticsEventsPage")
    class OutputSerializer(serializers.Serializer):
        results = AnalyticsEventSerializer(many=True)
        next_cursor = serializers.CharField(
            allow_null=True, help_text="Pass as ?after= for the next page (also to poll later)."
        )
        has_more = serializers.BooleanField(help_text="More events are there now.")

    @extend_schema(
        summary="The analytics event log, oldest first, in stable keyset pages (staff)",
        tags=["analytics"],
        parameters=[QuerySerializer],
        responses={200: OutputSerializer},
    )
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        page = events_page(
            after=params.get("after"),
            limit=params["limit"],
            kinds=frozenset([params["kind"]]) if "kind" in params else frozenset(),
            since=params.get("since"),
            until=params.get("until"),
        )
        return Response(
            {
                "results": [event_document(event) for event in page.events],
                "next_cursor": page.next_cursor.encode() if page.next_cursor else None,
                "has_more": page.has_more,
            }
        )
