"""Reads of a learner's progress. Every figure comes from the database in a fixed number of
aggregate queries, whatever the number of attempts; days are the learner's local days."""

from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.scheduler.models import LearnerAtomState

from .models import Attempt, StudySession, XPEvent
from .streaks import streak_lengths

RECENT_PRACTICE_DATES = 60


def _live_attempts(learner):
    return Attempt.objects.filter(learner=learner, archived_in__isnull=True)


def _local_day(learner) -> TruncDate:
    return TruncDate("answered_at", tzinfo=ZoneInfo(learner.timezone))


def practice_dates(learner) -> list:
    """Distinct local calendar days with at least one attempt, oldest first.

    A session that crosses the learner's midnight counts for both days.
    """
    days = (
        _live_attempts(learner)
        .annotate(day=_local_day(learner))
        .values_list("day", flat=True)
        .distinct()
        .order_by("day")
    )
    return list(days)


def learner_streak(learner) -> dict:
    dates = practice_dates(learner)
    today = timezone.now().astimezone(ZoneInfo(learner.timezone)).date()
    current, longest = streak_lengths(dates, today)
    return {
        "current_streak": current,
        "longest_streak": longest,
        "practice_dates": [d.isoformat() for d in dates[-RECENT_PRACTICE_DATES:]],
        "timezone": learner.timezone,
    }


def _accuracy(correct: int, total: int) -> float | None:
    return round(correct / total, 4) if total else None


def learner_progress(learner) -> dict:
    totals = _live_attempts(learner).aggregate(
        attempts=Count("id"),
        correct=Count("id", filter=Q(correct=True)),
        time_ms=Sum("time_taken_ms"),
    )
    xp = XPEvent.objects.filter(learner=learner, archived_in__isnull=True).aggregate(
        total=Sum("amount")
    )["total"]
    sessions = StudySession.objects.filter(learner=learner, archived_in__isnull=True).aggregate(
        total=Count("id"), completed=Count("id", filter=Q(completed_at__isnull=False))
    )
    states = LearnerAtomState.objects.filter(learner=learner, archived_in__isnull=True).aggregate(
        studied=Count("id"), due=Count("id", filter=Q(due_at__lte=timezone.now()))
    )
    return {
        "attempts": totals["attempts"],
        "correct": totals["correct"],
        "accuracy": _accuracy(totals["correct"], totals["attempts"]),
        "time_spent_ms": totals["time_ms"] or 0,
        "xp_total": xp or 0,
        "sessions": sessions["total"],
        "sessions_completed": sessions["completed"],
        "atoms_studied": states["studied"],
        "atoms_due": states["due"],
        "streak": learner_streak(learner),
    }


def learner_statistics(learner) -> dict:
    attempts = _live_attempts(learner)
    overall = attempts.aggregate(
        attempts=Count("id"),
        correct=Count("id", filter=Q(correct=True)),
        time_ms=Sum("time_taken_ms"),
    )
    by_day = (
        attempts.annotate(day=_local_day(learner))
        .values("day")
        .annotate(
            attempts=Count("id"),
            correct=Count("id", filter=Q(correct=True)),
            time_ms=Sum("time_taken_ms"),
        )
        .order_by("day")
    )
    by_type = (
        attempts.values(atom_type=F("atom__atom_type"))
        .annotate(attempts=Count("id"), correct=Count("id", filter=Q(correct=True)))
        .order_by("atom_type")
    )
    by_concept = (
        attempts.filter(atom__live_concepts__isnull=False)
        .values(concept_id=F("atom__live_concepts"), concept=F("atom__live_concepts__text"))
        .annotate(attempts=Count("id"), correct=Count("id", filter=Q(correct=True)))
        .order_by("concept")
    )
    return {
        "overall": {
            "attempts": overall["attempts"],
            "correct": overall["correct"],
            "accuracy": _accuracy(overall["correct"], overall["attempts"]),
            "time_spent_ms": overall["time_ms"] or 0,
        },
        "by_day": [
            {
                "date": row["day"].isoformat(),
                "attempts": row["attempts"],
                "correct": row["correct"],
                "accuracy": _accuracy(row["correct"], row["attempts"]),
                "time_spent_ms": row["time_ms"] or 0,
            }
            for row in by_day
        ],
        "by_atom_type": [
            {
                "atom_type": row["atom_type"],
                "attempts": row["attempts"],
                "correct": row["correct"],
                "accuracy": _accuracy(row["correct"], row["attempts"]),
            }
            for row in by_type
        ],
        "by_concept": [
            {
                "concept": str(row["concept_id"]),
                "text": row["concept"],
                "attempts": row["attempts"],
                "correct": row["correct"],
                "accuracy": _accuracy(row["correct"], row["attempts"]),
                # Posterior mean of a Beta(1, 1) prior: an honest estimate on few attempts.
                "mastery": round((row["correct"] + 1) / (row["attempts"] + 2), 4),
            }
            for row in by_concept
        ],
    }
