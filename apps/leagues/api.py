from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.openapi import error_response

from .models import Tier
from .selectors import league_current
from .standings import DEMOTION, PROMOTION, SAFE

TIER_SLUGS = [tier.slug for tier in Tier]
LEAGUE_STATUSES = ["open", "closing", "placing"]
LEAGUE_ZONES = [PROMOTION, SAFE, DEMOTION]


@extend_schema_serializer(component_name="LeagueMember")
class LeagueMemberSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    display_name = serializers.CharField()
    xp = serializers.IntegerField(help_text="XP earned this league week.")
    zone = serializers.ChoiceField(
        choices=LEAGUE_ZONES,
        help_text="Where the rank leads if the week ended now: promotion, safe or demotion.",
    )
    you = serializers.BooleanField(help_text="This row is the caller's.")


class CurrentLeagueView(APIView):
    """The caller's weekly league: up to 30 learners who opted in, ranked by this week's XP
    (the caller's own week: Monday to Monday at SCHEDULER_DAY_START_HOUR, in the league's
    time zone). Other members are shown by display name only."""

    @extend_schema_serializer(component_name="CurrentLeague")
    class OutputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(
            choices=LEAGUE_STATUSES,
            help_text="open: the week runs; closing: it is over and the standings are being "
            "recorded; placing: the caller has no league for this week yet (members empty).",
        )
        tier = serializers.ChoiceField(choices=TIER_SLUGS)
        week_start = serializers.DateField(help_text="The league week's local Monday.")
        starts_at = serializers.DateTimeField()
        ends_at = serializers.DateTimeField()
        promotion_slots = serializers.IntegerField()
        demotion_slots = serializers.IntegerField()
        rank = serializers.IntegerField(allow_null=True, help_text="The caller's rank.")
        xp = serializers.IntegerField(help_text="The caller's XP this league week.")
        members = LeagueMemberSerializer(many=True)

    @extend_schema(
        summary="The caller's weekly league, ranked by this week's XP",
        tags=["leagues"],
        responses={
            200: OutputSerializer,
            409: error_response(
                "The caller has not opted in to leagues (leagues_not_joined): PATCH /me/ "
                'with {"leagues_opt_in": true}.'
            ),
        },
    )
    def get(self, request):
        current = league_current(learner=request.user)
        you = next((s for s in current.standings if s.learner_id == request.user.pk), None)
        payload = {
            "status": current.status,
            "tier": Tier(current.tier).slug,
            "week_start": current.week.start,
            "starts_at": current.week.starts_at,
            "ends_at": current.week.ends_at,
            "promotion_slots": current.promotion_slots,
            "demotion_slots": current.demotion_slots,
            "rank": you.rank if you else None,
            "xp": you.xp if you else 0,
            "members": [
                {
                    "rank": s.rank,
                    "display_name": s.display_name,
                    "xp": s.xp,
                    "zone": s.zone,
                    "you": s is you,
                }
                for s in current.standings
            ],
        }
        return Response(self.OutputSerializer(payload).data)
