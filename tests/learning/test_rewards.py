"""Streak and mastery bonuses from the XP ledger: paid once each, in the answer's
transaction, never again after a replay or a re-sent batch; v1's migrated bonuses count; the
streak freeze keeps exactly one missed day."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.models import Origin
from apps.learning.models import LearnerDayRollup, XPEvent, XPReason
from apps.learning.selectors import learner_streak
from apps.learning.services.rewards import (
    MASTERY_BONUS_XP,
    STREAK_BONUSES,
    STREAK_FREEZE_XP,
    _bonuses_insert,
)
from apps.learning.streaks import freeze_held, kept_days, streak_lengths
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.helpers import (
    ATTEMPTS_URL,
    BATCH_URL,
    PROGRESS_URL,
    WRONG_MCQ,
    attempt_payload,
)

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


def bonuses(learner, reason=None) -> list[str]:
    rows = XPEvent.objects.filter(learner=learner, bonus_key__isnull=False)
    if reason:
        rows = rows.filter(reason=reason)
    return sorted(rows.values_list("bonus_key", flat=True))


def local_noon(day: date) -> datetime:
    """Noon of ``day`` in New York; today before noon there, now (the API refuses answers
    from the future)."""
    return min(datetime.combine(day, time(12), tzinfo=NEW_YORK), timezone.now())


def today_in_new_york() -> date:
    return timezone.now().astimezone(NEW_YORK).date()


def practised_before(learner, days: int) -> None:
    """The learner's ``days`` local days before today, as the rollups hold them (older
    practice than ATTEMPT_MAX_AGE_DAYS lets a client send, as the v1 backfill leaves it)."""
    today = today_in_new_york()
    LearnerDayRollup.objects.bulk_create(
        LearnerDayRollup(
            learner=learner, day=today - timedelta(days=n), timezone=learner.timezone, attempts=1
        )
        for n in range(1, days + 1)
    )


@pytest.fixture
def ny_learner(learner):
    learner.timezone = "America/New_York"
    learner.save(update_fields=["timezone"])
    return learner


@pytest.fixture
def wrong_atom():
    # Wrong answers: no mastery crossing muddles the streak tests (and no attempt XP).
    return make_atom("mcq")


# --- streak bonuses --------------------------------------------------------------------------


def test_the_seventh_local_day_pays_the_streak_bonus_once(learner_client, ny_learner, wrong_atom):
    today = today_in_new_york()
    days = [today - timedelta(days=n) for n in range(6, -1, -1)]  # 7 local days, today last
    rows = [
        attempt_payload(wrong_atom, WRONG_MCQ, answered_at=local_noon(day)) for day in days[:-1]
    ]

    assert learner_client.post(BATCH_URL, {"attempts": rows}, format="json").status_code == 200
    assert bonuses(ny_learner) == []  # six days: nothing yet
    last = attempt_payload(wrong_atom, WRONG_MCQ, answered_at=local_noon(days[-1]))
    assert learner_client.post(ATTEMPTS_URL, last, format="json").status_code == 201

    assert bonuses(ny_learner) == ["streak:7"]
    bonus = XPEvent.objects.get(learner=ny_learner, bonus_key="streak:7")
    assert (bonus.amount, bonus.reason) == (STREAK_BONUSES[7], XPReason.STREAK_BONUS)

    # a replay, a re-sent batch, another answer the same day: nothing more
    assert learner_client.post(ATTEMPTS_URL, last, format="json").status_code == 200
    resent = learner_client.post(BATCH_URL, {"attempts": [*rows, last]}, format="json")
    assert resent.json()["summary"]["replayed"] == 7
    more = attempt_payload(wrong_atom, WRONG_MCQ, answered_at=local_noon(today))
    assert learner_client.post(ATTEMPTS_URL, more, format="json").status_code == 201
    assert XPEvent.objects.filter(learner=ny_learner, reason=XPReason.STREAK_BONUS).count() == 1


def test_local_days_decide_not_utc_days(learner_client, ny_learner, wrong_atom):
    # 23:30 in New York is the next UTC day: seven New York evenings are seven local days.
    today = today_in_new_york()
    evenings = [
        datetime.combine(today - timedelta(days=n), time(23, 30), tzinfo=NEW_YORK)
        for n in range(7, 0, -1)
    ]
    rows = [attempt_payload(wrong_atom, WRONG_MCQ, answered_at=moment) for moment in evenings]

    learner_client.post(BATCH_URL, {"attempts": rows}, format="json")

    assert bonuses(ny_learner) == ["streak:7"]


@pytest.mark.parametrize(
    ("before", "paid"),
    [(29, ["streak:30", "streak:7"]), (99, ["streak:100", "streak:30", "streak:7"])],
)
def test_thirty_and_a_hundred_days_pay_each_milestone_once(
    learner_client, ny_learner, wrong_atom, before, paid
):
    practised_before(ny_learner, before)

    body = attempt_payload(wrong_atom, WRONG_MCQ)
    assert learner_client.post(ATTEMPTS_URL, body, format="json").status_code == 201
    learner_client.post(ATTEMPTS_URL, attempt_payload(wrong_atom, WRONG_MCQ), format="json")

    assert bonuses(ny_learner) == paid
    total = sum(XPEvent.objects.filter(learner=ny_learner).values_list("amount", flat=True))
    assert total == sum(STREAK_BONUSES[int(key.split(":")[1])] for key in paid)


def test_migrated_v1_streak_bonuses_stand_for_the_first_milestones(
    learner_client, ny_learner, wrong_atom
):
    # v1 paid one streak bonus (its points row names no milestone): that was the 7-day one
    XPEvent.objects.create(
        learner=ny_learner,
        amount=50,
        reason=XPReason.STREAK_BONUS,
        occurred_at=timezone.now() - timedelta(days=200),
        origin=Origin.LEGACY,
        legacy_key="901",
    )
    practised_before(ny_learner, 29)

    learner_client.post(ATTEMPTS_URL, attempt_payload(wrong_atom, WRONG_MCQ), format="json")

    assert bonuses(ny_learner) == ["streak:30"]  # 7 was v1's; 30 is new


def test_a_reset_does_not_pay_a_bonus_again(learner_client, ny_learner, wrong_atom):
    practised_before(ny_learner, 6)
    learner_client.post(ATTEMPTS_URL, attempt_payload(wrong_atom, WRONG_MCQ), format="json")
    assert bonuses(ny_learner) == ["streak:7"]

    learner_client.post("/api/v1/progress/reset/", {"confirm": True}, format="json")
    practised_before(ny_learner, 6)  # the same week again, after the reset
    learner_client.post(ATTEMPTS_URL, attempt_payload(wrong_atom, WRONG_MCQ), format="json")

    assert XPEvent.objects.filter(learner=ny_learner, bonus_key="streak:7").count() == 1


# --- mastery bonuses -------------------------------------------------------------------------


def test_a_concept_reaching_mastered_pays_its_bonus_once(learner_client, learner):
    course = CourseFactory(mastery_threshold=0.8)
    concept = ConceptFactory(course=course)
    atom = make_atom("mcq", concept=concept)
    first = attempt_payload(atom)

    learner_client.post(ATTEMPTS_URL, first, format="json")
    assert bonuses(learner, XPReason.MASTERY_BONUS) == []  # one right answer: not mastered yet
    for _ in range(4):
        learner_client.post(ATTEMPTS_URL, attempt_payload(atom), format="json")
    learner_client.post(ATTEMPTS_URL, first, format="json")  # a replay

    assert bonuses(learner, XPReason.MASTERY_BONUS) == [f"mastery:{concept.pk}"]
    bonus = XPEvent.objects.get(learner=learner, reason=XPReason.MASTERY_BONUS)
    assert bonus.amount == MASTERY_BONUS_XP
    progress = learner_client.get(PROGRESS_URL).json()
    assert [c["status"] for c in progress["concepts"]] == ["mastered"]


def test_a_concept_falling_back_and_mastered_again_is_not_paid_twice(learner_client, learner):
    concept = ConceptFactory(course=CourseFactory(mastery_threshold=0.8))
    atom = make_atom("mcq", concept=concept)
    for response in [None, None, None, WRONG_MCQ, WRONG_MCQ, WRONG_MCQ, None, None, None, None]:
        learner_client.post(ATTEMPTS_URL, attempt_payload(atom, response), format="json")

    assert bonuses(learner, XPReason.MASTERY_BONUS) == [f"mastery:{concept.pk}"]


def test_a_batch_re_sent_pays_no_mastery_bonus_again(learner_client, learner):
    concept = ConceptFactory(course=CourseFactory(mastery_threshold=0.8))
    atom = make_atom("mcq", concept=concept)
    now = timezone.now()
    rows = [attempt_payload(atom, answered_at=now - timedelta(minutes=10 - n)) for n in range(6)]

    learner_client.post(BATCH_URL, {"attempts": rows}, format="json")
    learner_client.post(BATCH_URL, {"attempts": rows}, format="json")

    assert bonuses(learner, XPReason.MASTERY_BONUS) == [f"mastery:{concept.pk}"]


# --- exactly once in the database ------------------------------------------------------------


def test_the_database_refuses_a_second_bonus_with_the_same_key(learner):
    due = {"streak:7": (50, XPReason.STREAK_BONUS, timezone.now())}

    assert [e.bonus_key for e in _bonuses_insert(learner, due)] == ["streak:7"]
    assert _bonuses_insert(learner, due) == []  # ON CONFLICT DO NOTHING
    with pytest.raises(IntegrityError), transaction.atomic():
        XPEvent.objects.create(
            learner=learner,
            amount=50,
            reason=XPReason.STREAK_BONUS,
            occurred_at=timezone.now(),
            bonus_key="streak:7",
        )
    assert XPEvent.objects.filter(learner=learner).count() == 1
    other = UserFactory()
    assert len(_bonuses_insert(other, due)) == 1  # per learner


# --- the streak freeze -----------------------------------------------------------------------

TODAY = date(2026, 6, 17)  # a Wednesday


def days_ago(*offsets: int) -> list[date]:
    return [TODAY - timedelta(days=n) for n in offsets]


def xp_on(*offsets: int, amount: int = STREAK_FREEZE_XP) -> dict:
    return {TODAY - timedelta(days=n): amount for n in offsets}


def test_a_freeze_keeps_the_streak_across_exactly_one_missed_day():
    practised = days_ago(5, 4, 3, 1, 0)  # missed 2 days ago
    earned = xp_on(6)

    kept = kept_days(practised, earned, TODAY, STREAK_FREEZE_XP)

    assert kept == days_ago(2)
    assert streak_lengths(practised, TODAY, kept) == (5, 5)  # the kept day is not a practice day
    assert streak_lengths(practised, TODAY) == (2, 3)  # without it


def test_two_missed_days_in_a_row_break_the_streak_whatever_the_xp():
    practised = days_ago(6, 5, 4, 1, 0)  # missed 3 and 2 days ago
    kept = kept_days(practised, xp_on(7, 6, 5, 4), TODAY, STREAK_FREEZE_XP)

    assert kept == []
    assert streak_lengths(practised, TODAY, kept) == (2, 3)


def test_a_freeze_must_be_earned_by_the_xp_of_the_week_before():
    practised = days_ago(5, 4, 3, 1, 0)

    assert (
        kept_days(practised, xp_on(6, amount=STREAK_FREEZE_XP - 1), TODAY, STREAK_FREEZE_XP) == []
    )
    assert kept_days(practised, xp_on(10), TODAY, STREAK_FREEZE_XP) == []  # 8 days before: too old


def test_one_freeze_a_week_at_most():
    # Mon 15 and Wed 17 June missed in the same ISO week; 8 June (the week before) too
    practised = [date(2026, 6, d) for d in (6, 7, 9, 10, 11, 12, 13, 14, 16, 18)]
    earned = {date(2026, 6, d): 100 for d in range(1, 18)}

    kept = kept_days(practised, earned, date(2026, 6, 18), STREAK_FREEZE_XP)

    assert kept == [date(2026, 6, 8), date(2026, 6, 15)]
    # 6 June to 16 June: nine practice days; 17 June (same week as 15 June) breaks it
    assert streak_lengths(practised, date(2026, 6, 18), kept) == (1, 9)


def test_yesterday_missed_is_kept_while_today_lasts():
    practised = days_ago(4, 3, 2)

    kept = kept_days(practised, xp_on(3), TODAY, STREAK_FREEZE_XP)

    assert kept == days_ago(1)
    assert streak_lengths(practised, TODAY, kept)[0] == 3
    assert freeze_held(kept, xp_on(3), TODAY, STREAK_FREEZE_XP) == 0  # this week's is used


def test_progress_shows_the_freezes(learner_client, ny_learner):
    today = today_in_new_york()
    for n in (3, 1, 0):  # missed 2 days ago
        LearnerDayRollup.objects.create(
            learner=ny_learner, day=today - timedelta(days=n), timezone=ny_learner.timezone,
            attempts=1,
        )  # fmt: skip
    XPEvent.objects.create(
        learner=ny_learner, amount=60, reason=XPReason.ATTEMPT,
        occurred_at=local_noon(today - timedelta(days=3)),
    )  # fmt: skip

    streak = learner_client.get(PROGRESS_URL).json()["streak"]

    assert streak["current_streak"] == 3
    assert streak["freeze"]["used"] == 1
    assert streak["freeze"]["kept_days"] == [(today - timedelta(days=2)).isoformat()]
    assert streak["freeze"]["xp_per_freeze"] == STREAK_FREEZE_XP
    assert streak["freeze"]["xp_last_7_days"] == 60
    assert streak["freeze"]["held"] in (0, 1)
    assert learner_streak(ny_learner)["current_streak"] == 3
