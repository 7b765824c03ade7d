"""Progress reads during the migration: served from v1 or v2 by the ``read_source`` flag, and
while v1 serves them, a sampled share also computes v2's answer and records whether the two
agree (GitHub Scientist's method). The parity rate is the cutover criterion.

v1's answer has v2's shape. v1 cannot answer time spent (it never tracked it); atoms studied
and due come from its review cards; the streak is the one v1 shows (its cached profile).
Compared: the fields both sides answer from the same facts.
"""

import random
from zoneinfo import ZoneInfo

from django.db import DatabaseError
from django.utils import timezone

from apps.core.dispatch import enqueue_on_commit
from apps.learning.selectors import learner_progress

from ..backfill.keys import as_utc
from ..models import ReadSource, ShadowRead
from ..v1.gateway import v1_cursor
from .flags import sync_flags

COMPARED = ("attempts", "correct", "accuracy", "xp_total", "streak.current_streak",
            "streak.longest_streak")  # fmt: skip
RECENT_PRACTICE_DATES = 30


def progress_read(learner) -> dict:
    """The learner's progress from the flagged source. A learner v1 never knew, or v1 being
    unreachable, gets v2's answer: a read never fails because of the migration."""
    flags = sync_flags()
    v1_user = learner.legacy_key if (learner.legacy_key or "").isdigit() else None
    if flags.read_source != ReadSource.V1 or v1_user is None or flags.kill_switch:
        return learner_progress(learner)
    try:
        served = v1_progress(learner, int(v1_user))
    except DatabaseError:
        return learner_progress(learner)
    if random.random() * 100 < flags.shadow_read_percent:  # noqa: S311 - sampling, not secrets
        # A read writes nothing itself: the comparison is a task, queued for after it.
        from ..tasks import shadow_compare_task

        enqueue_on_commit(shadow_compare_task, str(learner.pk), served)
    return served


def shadow_compare(learner, v1_answer: dict) -> ShadowRead:
    """Compute v2's answer beside v1's and record the comparison. v2 failing is recorded as a
    mismatch; it never reaches the learner."""
    try:
        v2_answer = learner_progress(learner)
    except Exception as exc:  # the experiment must never break the read
        return ShadowRead.objects.create(
            learner=learner, matched=False, v1_answer=v1_answer,
            v2_answer={"error": f"{type(exc).__name__}: {exc}"}, differing_fields=["error"],
        )  # fmt: skip
    differing = [name for name in COMPARED if _field(v1_answer, name) != _field(v2_answer, name)]
    return ShadowRead.objects.create(
        learner=learner, matched=not differing, differing_fields=differing,
        v1_answer=v1_answer if differing else None,
        v2_answer=v2_answer if differing else None,
    )  # fmt: skip


def _field(answer: dict, dotted: str):
    value = answer
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def v1_progress(learner, v1_user: int) -> dict:
    """What v1 shows the learner, in v2's progress shape."""
    zone = ZoneInfo(learner.timezone)
    with v1_cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), SUM(CASE WHEN correct THEN 1 ELSE 0 END) FROM attempts "
            "WHERE user_id = %s",
            [v1_user],
        )
        attempts, correct = cursor.fetchone()
        cursor.execute("SELECT SUM(amount) FROM points WHERE user_id = %s", [v1_user])
        xp = cursor.fetchone()[0]
        cursor.execute(
            "SELECT COUNT(*), SUM(CASE WHEN completed_at IS NULL THEN 0 ELSE 1 END) "
            "FROM sessions WHERE user_id = %s",
            [v1_user],
        )
        sessions, completed = cursor.fetchone()
        cursor.execute(
            "SELECT COUNT(*), SUM(CASE WHEN due_at <= %s THEN 1 ELSE 0 END) FROM review_cards "
            "WHERE user_id = %s",
            [timezone.now().replace(tzinfo=None), v1_user],
        )
        studied, due = cursor.fetchone()
        cursor.execute(
            "SELECT current_streak, longest_streak FROM user_profiles WHERE user_id = %s",
            [v1_user],
        )
        profile = cursor.fetchone() or (0, 0)
        cursor.execute("SELECT created_at FROM attempts WHERE user_id = %s", [v1_user])
        days = sorted({day for (at,) in cursor.fetchall() if (day := _local_day(at, zone))})
    correct = int(correct or 0)
    return {
        "attempts": attempts,
        "correct": correct,
        "accuracy": round(correct / attempts, 4) if attempts else None,
        "time_spent_ms": 0,
        "xp_total": int(xp or 0),
        "sessions": sessions,
        "sessions_completed": int(completed or 0),
        "atoms_studied": studied,
        "atoms_due": int(due or 0),
        "streak": {
            "current_streak": profile[0] or 0,
            "longest_streak": profile[1] or 0,
            "practice_dates": [d.isoformat() for d in days[-RECENT_PRACTICE_DATES:]],
            "timezone": learner.timezone,
        },
    }


def _local_day(value, zone):
    try:
        moment = as_utc(value)
    except ValueError:
        return None  # a junk v1 timestamp counts for no day
    return moment.astimezone(zone).date() if moment else None
