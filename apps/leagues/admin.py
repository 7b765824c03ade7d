"""Read-only views of leagues and their standings, for staff granted ``leagues.view_league``
and ``leagues.view_leaguemembership`` (the Analysts role: apps/leagues/permissions.py).
Staff see who is in which league (support needs the email); learners who never opted in have
no rows here at all."""

from django.contrib import admin
from django.db.models import Count, Q

from apps.core.admin import ReadOnlyAdmin

from .models import League, LeagueMembership


class LeagueMembershipInline(admin.TabularInline):
    model = LeagueMembership
    fields = ("learner", "final_rank", "final_xp", "outcome", "reference_xp", "joined_at",
              "left_at")  # fmt: skip
    readonly_fields = fields
    ordering = ("final_rank", "joined_at")
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(League)
class LeagueAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "tier", "week_start", "starts_at", "ends_at", "members",
                    "closed_at")  # fmt: skip
    list_filter = ("tier", "week_start")
    date_hierarchy = "starts_at"
    inlines = [LeagueMembershipInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(member_count=Count("memberships", filter=Q(memberships__left_at=None)))
        )

    @admin.display(description="Members", ordering="member_count")
    def members(self, league) -> int:
        return league.member_count


@admin.register(LeagueMembership)
class LeagueMembershipAdmin(ReadOnlyAdmin):
    list_display = ("learner", "league", "final_rank", "final_xp", "outcome", "joined_at",
                    "left_at")  # fmt: skip
    list_filter = ("outcome", "league__tier", "week_start")
    search_fields = ("learner__email",)
    list_select_related = ("learner", "league")
