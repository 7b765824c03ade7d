"""Reads of a learner's progress; days are the learner's local days.

Attempt figures come from the learner's rollups (LearnerDayRollup, LearnerAtomRollup: a row per
day and per atom practised), so their cost does not grow with the attempt log. Should the
rollup's days be in another time zone than the learner's (the learner moved, and the rollup is
not rebuilt yet), the same figures are computed from the attempt log instead."""

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db.models import (
    Count,
    F,
    Min,
    Q,
    Sum,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.content.models import LearningAtom
from apps.core.raw_sql import column_values, field_value, read_cursor
from apps.curriculum.models import Concept, Course
from apps.curriculum.structure import course_graph
from apps.scheduler.algorithms.calendar_days import local_day
from apps.scheduler.bkt_fitting import bkt_priors_for_course
from apps.scheduler.candidates import course_candidates, learner_state_arrays
from apps.scheduler.models import LearnerAtomState, LearnerConceptState

from .mastery import concept_status
from .models import (
    Attempt,
    LearnerAtomRollup,
    LearnerDayRollup,
    StudySession,
    StudyTask,
    XPEvent,
)
from .services.rewards import STREAK_FREEZE_XP
from .streaks import freeze_held, kept_days, streak_lengths, xp_before
from .study_calendar import due_per_day, retention_by_month

RECENT_PRACTICE_DATES = 60


def _live_attempts(learner):
    return Attempt.objects.filter(learner=learner, archived_in__isnull=True)


def _local_day(learner) -> TruncDate:
    return TruncDate("answered_at", tzinfo=ZoneInfo(learner.timezone))


def practice_dates(learner) -> list:
    """Distinct local calendar days with at least one attempt, oldest first.

    A session that crosses the learner's midnight counts for both days.
    """
    rollup = _rollup(learner)
    days = rollup[0] if rollup is not None else _days_from_attempts(learner)
    return [day for day, *_ in days]


def _rollup(learner, *, atoms: bool = False) -> tuple[list, list] | None:
    """The learner's rollup rows in one query: [(day, attempts, correct, time_ms)] oldest
    first and, with ``atoms``, [(atom_id, attempts, correct, time_ms)].

    None when the attempt log must answer instead: a day counted in another time zone than
    the learner's, or no day at all (the log is then empty too, or its rows were written by a
    path that keeps no rollup, such as a test factory; an indexed look-up finds out at no cost
    for a learner without attempts)."""
    learner_id = field_value(LearnerDayRollup, "learner", learner.pk)
    sql = (
        "SELECT day, timezone, NULL, attempts, correct, time_spent_ms"
        " FROM learning_learnerdayrollup WHERE learner_id = %s"
    )
    if atoms:
        sql += (
            " UNION ALL SELECT NULL, '', atom_id, attempts, correct, time_spent_ms"
            " FROM learning_learneratomrollup WHERE learner_id = %s"
        )
    with read_cursor(LearnerDayRollup) as cursor:  # written out: see apps/core/raw_sql.py
        cursor.execute(sql, [learner_id, learner_id] if atoms else [learner_id])
        rows = cursor.fetchall()
    days, atom_rows = [], []
    day_values = column_values(LearnerDayRollup, "day", [row[0] for row in rows])
    atom_values = column_values(LearnerAtomRollup, "atom", [row[2] for row in rows])
    for day, atom_id, (_, zone, _, *sums) in zip(day_values, atom_values, rows, strict=True):
        if atom_id is not None:
            atom_rows.append((atom_id, *sums))
        elif zone != learner.timezone:
            return None
        else:
            days.append((day, *sums))
    if not days:
        return None
    days.sort()
    return days, atom_rows


def _days_from_attempts(learner) -> list:
    """[(day, attempts, correct, time_ms)] oldest first, from the attempt log."""
    return list(
        _live_attempts(learner)
        .annotate(day=_local_day(learner))
        .values_list("day")
        .annotate(
            attempts=Count("id"),
            correct=Count("id", filter=Q(correct=True)),
            time_ms=Sum("time_taken_ms", default=0),
        )
        .order_by("day")
    )


def xp_by_local_day(learner) -> dict:
    """{local day: XP earned} over the learner's live ledger (one grouped query)."""
    with read_cursor(XPEvent) as cursor:  # written out: see apps/core/raw_sql.py
        day, params = cursor.db.ops.datetime_cast_date_sql("occurred_at", (), learner.timezone)
        cursor.execute(
            f"SELECT {day}, SUM(amount) FROM learning_xpevent"  # noqa: S608 - placeholders only
            " WHERE learner_id = %s AND archived_in_id IS NULL GROUP BY 1",
            [*params, field_value(XPEvent, "learner", learner.pk)],
        )
        rows = cursor.fetchall()
    days = column_values(LearnerDayRollup, "day", [day for day, _ in rows])
    return {day: xp for day, (_, xp) in zip(days, rows, strict=True)}


def learner_streak(learner, dates: list | None = None, xp_by_day: dict | None = None) -> dict:
    """The streak with its freezes (apps/learning/streaks.py: a missed day is kept once a
    week when the 7 days before it earned ``STREAK_FREEZE_XP``)."""
    dates = practice_dates(learner) if dates is None else dates
    xp_by_day = xp_by_local_day(learner) if xp_by_day is None else xp_by_day
    today = timezone.now().astimezone(ZoneInfo(learner.timezone)).date()
    kept = kept_days(dates, xp_by_day, today, STREAK_FREEZE_XP)
    current, longest = streak_lengths(dates, today, kept)
    return {
        "current_streak": current,
        "longest_streak": longest,
        "practice_dates": [d.isoformat() for d in dates[-RECENT_PRACTICE_DATES:]],
        "timezone": learner.timezone,
        "freeze": {
            "held": freeze_held(kept, xp_by_day, today, STREAK_FREEZE_XP),
            "used": len(kept),
            "kept_days": [d.isoformat() for d in kept[-RECENT_PRACTICE_DATES:]],
            "xp_last_7_days": xp_before(xp_by_day, today + timedelta(days=1)),
            "xp_per_freeze": STREAK_FREEZE_XP,
        },
    }


def _accuracy(correct: int, total: int) -> float | None:
    return round(correct / total, 4) if total else None


def learner_progress(learner) -> dict:
    rollup = _rollup(learner)
    days = rollup[0] if rollup is not None else _days_from_attempts(learner)
    totals = {
        "attempts": sum(row[1] for row in days),
        "correct": sum(row[2] for row in days),
        "time_ms": sum(row[3] for row in days),
    }
    dates = [row[0] for row in days]
    # XP per local day (one grouped query instead of the sum): the total, and the freezes.
    xp_by_day = xp_by_local_day(learner)
    xp = sum(xp_by_day.values())
    sessions, completed, studied, due = _sessions_and_states(learner)
    return {
        "attempts": totals["attempts"],
        "correct": totals["correct"],
        "accuracy": _accuracy(totals["correct"], totals["attempts"]),
        "time_spent_ms": totals["time_ms"] or 0,
        "xp_total": xp or 0,
        "sessions": sessions,
        "sessions_completed": completed,
        "atoms_studied": studied,
        "atoms_due": due,
        "streak": learner_streak(learner, dates, xp_by_day),
    }


def _sessions_and_states(learner) -> tuple[int, int, int, int]:
    """(sessions, completed sessions, atoms studied, atoms due now) of the learner's live rows,
    in one statement (written out: see apps/core/raw_sql.py)."""
    learner_id = field_value(StudySession, "learner", learner.pk)
    with read_cursor(StudySession) as cursor:
        cursor.execute(
            "SELECT sessions.total, sessions.completed, states.studied, states.due FROM"
            " (SELECT COUNT(*) AS total, COUNT(completed_at) AS completed"
            "  FROM learning_studysession WHERE learner_id = %s AND archived_in_id IS NULL)"
            " AS sessions,"
            " (SELECT COUNT(*) AS studied, COUNT(CASE WHEN due_at <= %s THEN 1 END) AS due"
            "  FROM scheduler_learneratomstate WHERE learner_id = %s AND archived_in_id IS NULL)"
            " AS states",
            [learner_id, field_value(LearnerAtomState, "due_at", timezone.now()), learner_id],
        )
        return cursor.fetchone()


def learner_statistics(learner) -> dict:
    """Accuracy overall, by local day, by atom type and by concept, from the learner's rollups
    (a row per day and per atom practised), then small lookups for the atoms' types and live
    concepts."""
    rollup = _rollup(learner, atoms=True)
    if rollup is None:
        return learner_statistics_from_attempts(learner)
    return _statistics(*rollup, mastery=learner_concept_mastery(learner))


def learner_statistics_from_attempts(learner) -> dict:
    """``learner_statistics`` computed from the whole attempt log (one grouped scan by local
    day and atom): the reference the rollups must equal, and the fallback."""
    groups = list(
        _live_attempts(learner)
        .annotate(day=_local_day(learner))
        .values_list("day", "atom_id")
        .annotate(
            attempts=Count("id"),
            correct=Count("id", filter=Q(correct=True)),
            time_ms=Sum("time_taken_ms"),
        )
        .order_by()
    )
    days: dict = defaultdict(_Tally)
    atoms: dict = defaultdict(_Tally)
    for day, atom_id, attempts, correct, time_ms in groups:
        days[day].add(attempts, correct, time_ms or 0)
        atoms[atom_id].add(attempts, correct, time_ms or 0)
    return _statistics(
        [(day, t.attempts, t.correct, t.time_ms) for day, t in days.items()],
        [(atom_id, t.attempts, t.correct, t.time_ms) for atom_id, t in atoms.items()],
        mastery=learner_concept_mastery(learner),
    )


def _statistics(days: list[tuple], atoms: list[tuple], *, mastery: list[dict]) -> dict:
    """The statistics from (day, attempts, correct, time_ms) and (atom, attempts, correct,
    time_ms) rows, and the learner's concept mastery (``learner_concept_mastery``): the
    scheduler's P(known) of every concept of their courses, practised or not, where
    ``by_concept`` estimates mastery from the accuracy of the concepts practised."""
    atom_ids = {atom_id for atom_id, *_ in atoms}
    atom_types = dict(LearningAtom.objects.filter(pk__in=atom_ids).values_list("pk", "atom_type"))
    concepts_of: dict = defaultdict(list)
    concept_text: dict = {}
    links = LearningAtom.live_concepts.through.objects.filter(learningatom_id__in=atom_ids)
    for atom_id, concept_id, text in links.values_list(
        "learningatom_id", "concept_id", "concept__text"
    ):
        concepts_of[atom_id].append(concept_id)
        concept_text[concept_id] = text

    overall = _Tally()
    by_day: dict = defaultdict(_Tally)
    for day, attempts, correct, time_ms in days:
        for tally in (overall, by_day[day]):
            tally.add(attempts, correct, time_ms)
    by_type: dict = defaultdict(_Tally)
    by_concept: dict = defaultdict(_Tally)
    for atom_id, attempts, correct, time_ms in atoms:
        for tally in [by_type[atom_types[atom_id]], *(by_concept[c] for c in concepts_of[atom_id])]:
            tally.add(attempts, correct, time_ms)
    return {
        "overall": overall.as_dict(with_time=True),
        "by_day": [
            {"date": day.isoformat(), **by_day[day].as_dict(with_time=True)}
            for day in sorted(by_day)
        ],
        "by_atom_type": [
            {"atom_type": atom_type, **by_type[atom_type].as_dict()}
            for atom_type in sorted(by_type)
        ],
        "by_concept": [
            {
                "concept": str(concept_id),
                "text": concept_text[concept_id],
                **tally.as_dict(),
                # Posterior mean of a Beta(1, 1) prior: an honest estimate on few attempts.
                "mastery": round((tally.correct + 1) / (tally.attempts + 2), 4),
            }
            for concept_id, tally in sorted(
                by_concept.items(), key=lambda i: (concept_text[i[0]], str(i[0]))
            )
        ],
        "concepts": mastery,
    }


class _Tally:
    __slots__ = ("attempts", "correct", "time_ms")

    def __init__(self) -> None:
        self.attempts = self.correct = self.time_ms = 0

    def add(self, attempts: int, correct: int, time_ms: int) -> None:
        self.attempts += attempts
        self.correct += correct
        self.time_ms += time_ms

    def as_dict(self, with_time: bool = False) -> dict:
        result = {
            "attempts": self.attempts,
            "correct": self.correct,
            "accuracy": _accuracy(self.correct, self.attempts),
        }
        if with_time:
            result["time_spent_ms"] = self.time_ms
        return result


def practice_dates_by_learner(learner_ids) -> dict:
    """{learner id: [local practice days, oldest first]} for many learners in one query
    (each learner's days in their own time zone), for batch jobs such as the legacy backfill."""
    from django.db import connection

    from apps.accounts.models import User

    learner_ids = list(learner_ids)
    days: dict = defaultdict(list)
    if not learner_ids:
        return days
    if connection.vendor != "postgresql":
        for learner in User.objects.filter(pk__in=learner_ids):
            days[learner.pk] = practice_dates(learner)
        return days
    sql = f"""
        SELECT a.learner_id, (a.answered_at AT TIME ZONE u.timezone)::date AS day
        FROM {Attempt._meta.db_table} a JOIN {User._meta.db_table} u ON u.id = a.learner_id
        WHERE a.learner_id = ANY(%s) AND a.archived_in_id IS NULL
        GROUP BY 1, 2 ORDER BY 1, 2
    """  # noqa: S608 - table names from model metadata
    with connection.cursor() as cursor:
        cursor.execute(sql, [learner_ids])
        for learner_id, day in cursor.fetchall():
            days[learner_id].append(day)
    return days


# --- mastery, the due forecast, true retention, study tasks ----------------------------------


def learner_concept_mastery(learner) -> list[dict]:
    """Every concept of the learner's courses with the scheduler's P(known) and its status
    (apps/learning/mastery.py), ordered by course and text.

    The learner's courses are the published ones in which the scheduler holds a live concept
    state of theirs (they practised there, or a placement seeded it); a learner with none has
    no concepts to report. A concept without a state yet (``assessed`` false) has the P(known)
    the scheduler starts it at, its fitted prior, as next items assumes when it gates new
    material. One query (the learner's concept states, with their course), plus per course a
    cache read of its concept graph (apps/curriculum/structure.py) and one of its priors."""
    thresholds: dict = {}
    own_p_known: dict = {}
    with read_cursor(LearnerConceptState) as cursor:  # written out: see apps/core/raw_sql.py
        cursor.execute(
            "SELECT s.concept_id, c.course_id, course.mastery_threshold, s.p_known"
            " FROM scheduler_learnerconceptstate s"
            " JOIN curriculum_concept c ON c.id = s.concept_id"
            " JOIN curriculum_course course ON course.id = c.course_id"
            " WHERE s.learner_id = %s AND s.archived_in_id IS NULL AND course.is_published = %s",
            [field_value(LearnerConceptState, "learner", learner.pk), True],
        )
        rows = cursor.fetchall()
    concept_ids = column_values(LearnerConceptState, "concept", [row[0] for row in rows])
    course_ids = column_values(Concept, "course", [row[1] for row in rows])
    for concept_id, course_id, (_, _, threshold, p_known) in zip(
        concept_ids, course_ids, rows, strict=True
    ):
        thresholds[course_id] = threshold
        own_p_known[concept_id] = p_known
    nodes: dict = {}
    prerequisites: dict = defaultdict(list)
    for course_id, threshold in thresholds.items():
        graph = course_graph(course_id)
        prerequisites.update(graph.prerequisites)
        for concept_id, text in graph.texts.items():
            nodes[concept_id] = (course_id, threshold, text, own_p_known.get(concept_id))

    # One cache read per course (not per concept: with Redis each is a round trip).
    courses_seen = {course_id for course_id, *_ in nodes.values()}
    priors = {course_id: bkt_priors_for_course(course_id) for course_id in courses_seen}
    knowledge = {}
    for concept_id, (course_id, _, _, p_known) in nodes.items():
        fitted, fallback = priors[course_id]
        knowledge[concept_id] = (
            p_known if p_known is not None else fitted.get(str(concept_id), fallback)
        )
        for prerequisite in prerequisites[concept_id]:  # never another course's, but be safe
            knowledge.setdefault(prerequisite, fitted.get(str(prerequisite), fallback))
    result = []
    for concept_id, (course_id, threshold, text, p_known) in nodes.items():
        status, unmastered = concept_status(
            knowledge[concept_id], prerequisites[concept_id], knowledge, threshold
        )
        result.append(
            {
                "concept": str(concept_id),
                "text": text,
                "course": str(course_id),
                "p_known": round(knowledge[concept_id], 4),
                "assessed": p_known is not None,
                "status": status,
                "mastery_threshold": threshold,
                "unmastered_prerequisites": sorted(str(p) for p in unmastered),
            }
        )
    result.sort(key=lambda row: (row["course"], row["text"], row["concept"]))
    return result


FORECAST_MAX_DAYS = 365


def learner_due_forecast(learner, course: Course, *, days: int, now: datetime | None = None):
    """How many of the course's atoms fall due on each of the learner's next ``days`` days
    (their time zone; days start at ``SCHEDULER_DAY_START_HOUR``), today first; overdue atoms
    count on today. The atoms are next items' candidates (published, unarchived, linked live
    to the course) that the learner has a live scheduler state for, so the days add up to the
    atoms next items would call due within the window. Two reads: the course's candidates
    (kept per process) and the learner's due times (one query)."""
    now = now or timezone.now()
    hour = settings.SCHEDULER_DAY_START_HOUR
    today = local_day(now, learner.timezone, hour)
    keys, due, *_ = learner_state_arrays(learner.pk)
    in_course = course_candidates(course.pk).rows_of(keys) >= 0
    due = due[in_course & ~np.isnan(due)]
    counts = due_per_day(
        due, today=today, days=days, timezone=learner.timezone, day_start_hour=hour
    )
    return {
        "course": str(course.pk),
        "timezone": learner.timezone,
        "day_start_hour": hour,
        "today": today.isoformat(),
        "total": sum(counts),
        "overdue": int((due <= now.timestamp()).sum()),
        "days": [
            {"date": date.fromordinal(today.toordinal() + n).isoformat(), "due": count}
            for n, count in enumerate(counts)
        ],
    }


RETENTION_MAX_MONTHS = 120


def learner_retention(learner, course: Course, *, months: int, now: datetime | None = None):
    """The learner's true retention in the course per month, the last ``months`` months of
    their calendar (this one included): the share of their reviews they recalled
    (apps/learning/study_calendar.py: retention_by_month says what a review is), next to the
    course's target, ``desired_retention``: the recall probability its reviews are scheduled
    for (FSRS; half-life regression schedules for it too). Live attempts on atoms linked live
    to the course. Two queries: the first answer on each atom, and the window's answers."""
    now = now or timezone.now()
    hour = settings.SCHEDULER_DAY_START_HOUR
    zone = learner.timezone
    today = local_day(now, zone, hour)
    first_month = _month_add(today.replace(day=1), -(months - 1))
    window_start = datetime.combine(first_month, time(hour), tzinfo=ZoneInfo(zone))
    links = LearningAtom.live_concepts.through.objects.filter(concept__course=course)
    answers = _live_attempts(learner).filter(atom__in=links.values("learningatom_id"))
    first_answered = dict(
        answers.order_by()
        .values("atom_id")
        .annotate(first=Min("answered_at"))
        .values_list("atom_id", "first")
    )
    in_window = (
        answers.filter(answered_at__gte=window_start)
        .order_by("answered_at")
        .values_list("atom_id", "answered_at", "correct")
    )
    tallies = retention_by_month(in_window, first_answered, timezone=zone, day_start_hour=hour)
    rows, month = [], first_month
    while month <= today:
        reviews, recalled = tallies.get((month.year, month.month), (0, 0))
        rows.append({"month": f"{month:%Y-%m}", **_recall(reviews, recalled)})
        month = _month_add(month, 1)
    return {
        "course": str(course.pk),
        "timezone": zone,
        "day_start_hour": hour,
        "target_retention": course.desired_retention,
        "algorithm": course.default_algorithm,
        "overall": _recall(
            sum(row["reviews"] for row in rows), sum(row["recalled"] for row in rows)
        ),
        "months": rows,
    }


def _recall(reviews: int, recalled: int) -> dict:
    return {"reviews": reviews, "recalled": recalled, "retention": _accuracy(recalled, reviews)}


def _month_add(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def learner_tasks(learner, *, status: str | None = None):
    """The learner's study tasks, soonest due first (undated ones last)."""
    tasks = StudyTask.objects.filter(learner=learner)
    if status:
        tasks = tasks.filter(status=status)
    return tasks.order_by(F("due_at").asc(nulls_last=True), "title", "id")
