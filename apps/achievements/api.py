from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import BadgeRule
from .selectors import learner_achievements


@extend_schema_serializer(component_name="Badge")
class BadgeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    icon = serializers.SerializerMethodField(help_text="The icon's URL (media storage).")
    rule = serializers.ChoiceField(choices=BadgeRule.choices)
    threshold = serializers.IntegerField()
    course = serializers.UUIDField(source="course_id", allow_null=True)

    def get_icon(self, badge) -> str | None:
        if not badge.icon:
            return None
        url = badge.icon.url
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request and url.startswith("/") else url


class BadgeProgressSerializer(serializers.Serializer):
    current = serializers.IntegerField(help_text="The caller's figure, at most the target.")
    target = serializers.IntegerField()


@extend_schema_serializer(component_name="EarnedBadge")
class EarnedBadgeSerializer(serializers.Serializer):
    badge = BadgeSerializer()
    earned_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="NextBadge")
class NextBadgeSerializer(serializers.Serializer):
    badge = BadgeSerializer()
    progress = BadgeProgressSerializer()


class AchievementsView(APIView):
    """The caller's badges: earned ones (newest first) and the next ones with progress."""

    @extend_schema_serializer(component_name="Achievements")
    class OutputSerializer(serializers.Serializer):
        earned = EarnedBadgeSerializer(many=True)
        next = NextBadgeSerializer(
            many=True, help_text="Active badges not earned yet, closest first."
        )

    @extend_schema(
        summary="The caller's earned badges and the next ones, with progress",
        tags=["achievements"],
        responses={200: OutputSerializer},
    )
    def get(self, request):
        achievements = learner_achievements(request.user)
        body = {
            "earned": [
                {"badge": badge, "earned_at": award.earned_at}
                for badge, award in achievements["earned"]
            ],
            "next": [
                {"badge": badge, "progress": progress} for badge, progress in achievements["next"]
            ],
        }
        return Response(self.OutputSerializer(body, context={"request": request}).data)
