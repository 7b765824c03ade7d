"""Bonus XP from the ledger: streak bonuses (7, 30 and 100 local days) and mastery bonuses (a
concept reaching the course's ``mastery_threshold``), paid in the transaction that earns them.

**Exactly once, in the database.** Each bonus carries a ``bonus_key`` (``streak:7``,
``mastery:<concept id>``) and XPEvent's partial unique index (learner, bonus_key) refuses a
second one: the insert is ``ON CONFLICT DO NOTHING``, so a replay, a re-sent batch or two
attempts racing each other (on PostgreSQL they also queue on the learner's write lock) pay it
once. Archived rows keep their key: a progress reset does not pay a bonus again.

**Migrated v1 bonuses.** v1's ``points`` rows say ``streak_bonus`` or ``mastery_bonus`` but not
which milestone or concept, so the backfill stores them without a key. The rule recognizes
them: the learner's n migrated streak bonuses stand for the first n milestones (7, then 30,
then 100), which are then not paid again. A migrated mastery bonus was paid for a concept the
learner had mastered in v1; the backfill's replay of their history leaves that concept
mastered, and only a concept *crossing* the threshold in a v2 answer is paid, so it is not paid
again (a concept that fell back under the threshold and crosses it again in v2 is paid once).

**Cost.** ``rollups_add`` tells which local days are new to the learner (read back from its
own upsert). Only on a learner's first answer of a local day does the streak check read the
window of days and XP per day the streak and its freezes need (one statement, at most
``STREAK_WINDOW_DAYS`` days, never the whole history). The insert runs only when something is
due. A later answer of the day costs no statement here.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import CharField, DateField, IntegerField, Sum, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.core.sync_port import rows_changed

from ..models import LearnerDayRollup, XPEvent, XPReason
from ..streaks import kept_days, streak_lengths

# Milestone (local days in a row) → bonus XP.
STREAK_BONUSES = {7: 50, 30: 200, 100: 1000}
MASTERY_BONUS_XP = 25
# XP in the 7 days before a missed day that earns the freeze keeping it (streaks.py).
STREAK_FREEZE_XP = 50
# Days read back for the streak check: a run with 100 practice days spans at most ~117
# calendar days (one kept day a week), so any run reaching the top milestone is seen.
STREAK_WINDOW_DAYS = 200


def streak_key(length: int) -> str:
    return f"streak:{length}"


def mastery_key(concept_id) -> str:
    return f"mastery:{concept_id}"


@dataclass(frozen=True)
class RewardsGranted:
    bonuses: list  # the XPEvents inserted now (none when everything was already paid)
    new_days: frozenset  # local days the learner had not practised on before this batch
    mastered: tuple = ()  # concepts the batch took across their mastery threshold

    def figures_moved(self, xp_earned: bool) -> set[str]:
        """The badge rules (apps/achievements BadgeRule values) whose figures may have moved."""
        moved = set()
        if xp_earned or self.bonuses:
            moved.add("xp_total")
        if self.new_days:
            moved.add("streak_length")
        if self.mastered:
            moved.add("concepts_mastered")
        return moved


def rewards_grant(*, learner, new_days, at: datetime, mastered=(), now: datetime | None = None):
    """Pay the streak and mastery bonuses a batch of attempts just stored earns.

    ``new_days``: the learner's local days the batch practised on for the first time
    (``rollups_add`` returns them); only a new practice day can lengthen a streak, so the
    streak is read only then. ``mastered``: [(concept id, answered_at)] of concepts the batch
    took across their course's mastery threshold. ``at``: when the streak bonus was earned
    (the batch's latest answer). Precondition: inside the attempt's transaction (on
    PostgreSQL under the learner's write lock), after ``rollups_add`` counted the batch.
    """
    now = now or timezone.now()
    new_days = frozenset(new_days)
    due: dict[str, tuple] = {}
    if new_days:
        today = now.astimezone(ZoneInfo(learner.timezone)).date()
        for length in _streak_milestones_due(learner, new_days, today):
            due[streak_key(length)] = (STREAK_BONUSES[length], XPReason.STREAK_BONUS, at)
    for concept_id, answered_at in mastered:
        due.setdefault(
            mastery_key(concept_id), (MASTERY_BONUS_XP, XPReason.MASTERY_BONUS, answered_at)
        )
    return RewardsGranted(_bonuses_insert(learner, due), new_days, tuple(mastered))


def _streak_milestones_due(learner, new_days, today: date) -> list[int]:
    """Milestones the learner's longest run in the window reaches and nobody paid yet."""
    zone = ZoneInfo(learner.timezone)
    start = min(new_days) - timedelta(days=STREAK_WINDOW_DAYS)
    xp_start = start - timedelta(days=7)  # a freeze on the window's first days needs these
    none_text = Value(None, output_field=CharField())
    days = (
        LearnerDayRollup.objects.filter(learner=learner, day__gte=start)
        .annotate(kind=Value("d"), amount=Value(0, output_field=IntegerField()), key=none_text)
        .values_list("kind", "day", "amount", "key")
        .order_by()
    )
    xp = (
        XPEvent.objects.filter(
            learner=learner,
            archived_in__isnull=True,
            occurred_at__gte=datetime.combine(xp_start, datetime.min.time(), tzinfo=zone),
        )
        .annotate(kind=Value("x"), local_day=TruncDate("occurred_at", tzinfo=zone))
        .values("kind", "local_day")
        .annotate(amount=Sum("amount"), key=none_text)
        .values_list("kind", "local_day", "amount", "key")
        .order_by()
    )
    # Paid streak bonuses, archived ones and v1's keyless ones included.
    paid = (
        XPEvent.objects.filter(learner=learner, reason=XPReason.STREAK_BONUS)
        .annotate(
            kind=Value("b"),
            no_day=Value(None, output_field=DateField()),
            no_amount=Value(0, output_field=IntegerField()),
        )
        .values_list("kind", "no_day", "no_amount", "bonus_key")
        .order_by()
    )
    practised, xp_by_day, keys, migrated = set(new_days), {}, set(), 0
    for kind, day, amount, key in days.union(xp, paid, all=True):
        if kind == "d":
            practised.add(day)
        elif kind == "x":
            xp_by_day[day] = xp_by_day.get(day, 0) + (amount or 0)
        elif key:
            keys.add(key)
        else:
            migrated += 1
    milestones = sorted(STREAK_BONUSES)
    paid_lengths = set(milestones[:migrated]) | {m for m in milestones if streak_key(m) in keys}
    dates = sorted(practised)
    kept = kept_days(dates, xp_by_day, today, STREAK_FREEZE_XP)
    _, longest = streak_lengths(dates, today, kept)
    return [m for m in milestones if m <= longest and m not in paid_lengths]


def _bonuses_insert(learner, due: dict[str, tuple]) -> list[XPEvent]:
    """One ``INSERT … ON CONFLICT DO NOTHING RETURNING`` for every bonus due: rows another
    transaction (or an earlier replay) already wrote are skipped by the unique index."""
    if not due:
        return []
    table = connection.ops.quote_name(XPEvent._meta.db_table)
    created = timezone.now()
    rows, params = [], []
    learner_id = learner.pk if connection.vendor == "postgresql" else learner.pk.hex
    for key, (amount, reason, at) in sorted(due.items()):
        rows.append("(%s, %s, %s, %s, %s, %s, %s)")
        params += [
            learner_id,
            amount,
            reason,
            connection.ops.adapt_datetimefield_value(at),
            key,
            connection.ops.adapt_datetimefield_value(created),
            "v2",
        ]
    sql = (
        f"INSERT INTO {table} "  # noqa: S608 - table name from model metadata
        "(learner_id, amount, reason, occurred_at, bonus_key, created_at, origin) "
        f"VALUES {', '.join(rows)} "
        "ON CONFLICT (learner_id, bonus_key) WHERE bonus_key IS NOT NULL DO NOTHING "
        "RETURNING id, bonus_key"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = cursor.fetchall()
    events = []
    for pk, key in inserted:
        amount, reason, at = due[key]
        events.append(
            XPEvent(
                pk=pk,
                learner=learner,
                amount=amount,
                reason=reason,
                occurred_at=at,
                bonus_key=key,
                created_at=created,
            )
        )
    rows_changed(entity="points", ids=[event.pk for event in events])
    return events


def concepts_mastered(changes: dict, thresholds: dict) -> list[tuple]:
    """[(concept id, answered_at)] of the concepts ``concept_states_update``'s ``changes`` took
    across their course's mastery threshold (``thresholds``: {concept id text: threshold}); a
    new state counts as crossing when its first answers put it at or above."""
    crossed = []
    for concept_id, (before, after, at) in sorted(changes.items()):
        threshold = thresholds.get(concept_id)
        if threshold is not None and after >= threshold and (before is None or before < threshold):
            crossed.append((concept_id, at))
    return crossed
