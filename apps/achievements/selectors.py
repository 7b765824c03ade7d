"""Reads: the active badge definitions (kept in the cache), a learner's figures per rule, and
what ``GET /api/v1/me/achievements/`` shows."""

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, F, Q, Sum

from apps.assessment.models import MockTest
from apps.core.process_memo import memo_forget, memo_get
from apps.learning.models import StudySession, XPEvent
from apps.learning.selectors import learner_streak
from apps.scheduler.models import LearnerConceptState

from .models import Badge, BadgeRule, LearnerBadge

_BADGES_CACHE_KEY = "achievements:active-badges:v1"


@dataclass(frozen=True)
class BadgeDefinition:
    pk: object
    name: str
    rule: str
    threshold: int
    course_id: object


def active_badges() -> list[BadgeDefinition]:
    """Every active badge, read once and kept in the cache until an editor changes one
    (services.badge_save / badge_delete clear it), so an attempt with no badge of its kinds
    to check costs no query. Kept in the process too (process_memo): another process's edit
    is used within MEMO_S."""
    return memo_get(_BADGES_CACHE_KEY, MEMO_S, _active_badges_shared)


MEMO_S = 30


def _active_badges_shared() -> list[BadgeDefinition]:
    badges = cache.get(_BADGES_CACHE_KEY)
    if badges is None:
        badges = [
            BadgeDefinition(pk, name, rule, threshold, course_id)
            for pk, name, rule, threshold, course_id in Badge.objects.filter(
                is_active=True
            ).values_list("pk", "name", "rule", "threshold", "course_id")
        ]
        cache.set(_BADGES_CACHE_KEY, badges, timeout=None)
    return badges


def active_badges_forget() -> None:
    cache.delete(_BADGES_CACHE_KEY)
    memo_forget(_BADGES_CACHE_KEY)


def learner_figures(learner, badges) -> dict:
    """{(rule, course id or None): the learner's figure} for what ``badges`` need: one query
    per rule present. Live rows only (a progress reset sets figures back, not badges)."""
    rules = {b.rule for b in badges}
    figures: dict = {}
    if BadgeRule.XP_TOTAL in rules:
        total = XPEvent.objects.filter(learner=learner, archived_in__isnull=True).aggregate(
            total=Sum("amount")
        )["total"]
        figures[(BadgeRule.XP_TOTAL, None)] = total or 0
    if BadgeRule.STREAK_LENGTH in rules:
        figures[(BadgeRule.STREAK_LENGTH, None)] = learner_streak(learner)["longest_streak"]
    if BadgeRule.CONCEPTS_MASTERED in rules:
        courses = {b.course_id for b in badges if b.rule == BadgeRule.CONCEPTS_MASTERED}
        mastered = dict(
            LearnerConceptState.objects.filter(
                learner=learner,
                archived_in__isnull=True,
                concept__course__in=courses,
                p_known__gte=F("concept__course__mastery_threshold"),
            )
            .values_list("concept__course_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        for course_id in courses:
            figures[(BadgeRule.CONCEPTS_MASTERED, course_id)] = mastered.get(course_id, 0)
    if BadgeRule.MOCK_TESTS_PASSED in rules:
        passed = dict(
            MockTest.objects.filter(learner=learner, passed=True)
            .values_list("course_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        figures[(BadgeRule.MOCK_TESTS_PASSED, None)] = sum(passed.values())
        for badge in badges:
            if badge.rule == BadgeRule.MOCK_TESTS_PASSED and badge.course_id:
                figures[(BadgeRule.MOCK_TESTS_PASSED, badge.course_id)] = passed.get(
                    badge.course_id, 0
                )
    if BadgeRule.PERFECT_SESSIONS in rules:
        figures[(BadgeRule.PERFECT_SESSIONS, None)] = (
            StudySession.objects.filter(
                learner=learner, completed_at__isnull=False, archived_in__isnull=True
            )
            .annotate(
                answered=Count("attempts"),
                wrong=Count("attempts", filter=Q(attempts__correct=False)),
            )
            .filter(answered__gt=0, wrong=0)
            .count()
        )
    return figures


def figure_of(figures: dict, badge) -> int:
    scoped = badge.rule in (BadgeRule.CONCEPTS_MASTERED, BadgeRule.MOCK_TESTS_PASSED)
    return figures[(badge.rule, badge.course_id if scoped else None)]


def learner_achievements(learner) -> dict:
    """The learner's earned badges (newest first, with when) and the next ones: every active
    badge not earned yet, with the learner's progress toward it (closest first)."""
    earned = list(
        LearnerBadge.objects.filter(learner=learner).select_related("badge", "badge__course")
    )
    earned_ids = {award.badge_id for award in earned}
    pending = list(
        Badge.objects.filter(is_active=True)
        .exclude(pk__in=earned_ids)
        .select_related("course")
        .order_by("rule", "threshold", "name")
    )
    figures = learner_figures(learner, pending) if pending else {}
    upcoming = []
    for badge in pending:
        current = figure_of(figures, badge)
        upcoming.append(
            (badge, {"current": min(current, badge.threshold), "target": badge.threshold})
        )
    upcoming.sort(key=lambda pair: (-pair[1]["current"] / pair[1]["target"], pair[0].name))
    return {
        "earned": [(award.badge, award) for award in earned],
        "next": upcoming,
    }
