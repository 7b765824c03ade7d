"""The rest of v1's per-learner records: review cards, mistakes, points, cached streaks and
planner tasks."""

import json
from abc import abstractmethod

from django.utils import timezone
from django.utils.text import slugify

from apps.content.models import LearningAtom
from apps.core.models import Origin
from apps.learning.models import Mistake, StudyTask, XPEvent
from apps.scheduler.algorithms.fsrs_adapter import fsrs_state_from_sm2
from apps.scheduler.algorithms.sm2 import MIN_EASINESS, SM2State
from apps.scheduler.models import LearnerAtomState
from apps.scheduler.services import course_scheduling_policy

from ..models import StreakComparison
from ..v1.entities import POINT_REASONS
from .entity import BatchOutcome, Entity
from .keys import as_date, as_utc, jsonable, legacy_uuid
from .parents import ParentCheck, parent_problem
from .practice import BitIndex, timestamp_problem
from .streaks import streaks_recomputed
from .writer import rows_insert


class _PerLearner(Entity):
    """A table whose rows belong to a learner and (some) to a bit.

    Row-by-row tables derive from _RowByRow; tables that compare rows with each other
    (review cards, profiles) write their own ``migrate``.
    """

    model = None
    needs_bit = False

    def __init__(self):
        self.users = ParentCheck("users")
        self.index = BitIndex()

    def migrated_count(self) -> int:
        return self.model.objects.filter(origin=Origin.LEGACY).count()

    def _common(self, row, user_problems) -> tuple | None:
        problem = parent_problem(row, "user_id", "user", user_problems)
        if problem or not self.needs_bit:
            return problem
        if row.get("bit_id") is None:
            return "missing_bit", "bit_id is empty.", ""
        if self.index.get(row["bit_id"]) is None:
            return "unknown_bit", f"bit {row['bit_id']} is not migrated.", f"bits:{row['bit_id']}"
        return None


class _RowByRow(_PerLearner):
    """Each row migrates on its own: say why it cannot (``row_problem``) and what it becomes
    (``v2_row``); the loop, quarantine and bulk write are shared."""

    def row_problem(self, row: dict) -> tuple | None:
        return None

    @abstractmethod
    def v2_row(self, row: dict, key: str) -> dict:
        """The v2 row's fields (origin and legacy key are added)."""

    def migrate(self, rows: list[dict]) -> BatchOutcome:
        outcome = BatchOutcome()
        user_problems = self.users.problems(r.get("user_id") for r in rows)
        new = []
        for row in rows:
            key = self.key_of(row)
            problem = self._common(row, user_problems) or self.row_problem(row)
            if problem:
                outcome.reject(key, problem, jsonable(row))
                continue
            new.append({**self.v2_row(row, key), "origin": Origin.LEGACY, "legacy_key": key})
            outcome.migrated_keys.append(key)
        rows_insert(self.model, new)
        return outcome


class ReviewCards(_PerLearner):
    """v1's resurfacing queue becomes the SM-2 state of the bit's atom. A learner has one
    state per atom, so a second card for the same bit is quarantined. In a course scheduled
    with FSRS the card becomes an FSRS memory state derived from its ease and interval
    (``fsrs_state_from_sm2``, with the course's fitted weights), keeping its due date."""

    name = "review_cards"
    depends_on = ("users", "bits")
    parallel = False

    model = LearnerAtomState
    needs_bit = True

    def migrate(self, rows: list[dict]) -> BatchOutcome:
        outcome = BatchOutcome()
        user_problems = self.users.problems(r.get("user_id") for r in rows)
        pairs = {
            (legacy_uuid("users", r.get("user_id")), bit[2])
            for r in rows
            if (bit := self.index.get(r.get("bit_id")))
        }
        owners = {
            (learner, atom): key
            for learner, atom, key in LearnerAtomState.objects.filter(
                archived_in__isnull=True,
                learner__in={p[0] for p in pairs},
                atom__in={p[1] for p in pairs},
            ).values_list("learner_id", "atom_id", "legacy_key")
        }
        fsrs_weights = _fsrs_courses_weights({atom for _, atom in pairs})
        new = []
        for row in rows:
            key = str(row["id"])
            problem = self._common(row, user_problems) or self._card_problem(row)
            if problem:
                outcome.reject(key, problem, jsonable(row))
                continue
            learner, atom = self.users.v2_id(row["user_id"]), self.index.get(row["bit_id"])[2]
            owner = owners.get((learner, atom))
            if (learner, atom) in owners and owner != key:
                held_by = f"card {owner}" if owner else "a v2 review state"
                outcome.reject(key, ("duplicate_review_card", f"Held by {held_by}."), jsonable(row))
                continue
            owners[(learner, atom)] = key
            if owner == key:
                outcome.migrated_keys.append(key)
                continue
            due, last = as_utc(row["due_at"]), as_utc(row.get("last_reviewed_at"))
            state = SM2State(
                easiness=float(row["ease"]),
                repetitions=int(row.get("repetitions") or 0),
                interval_days=int(row["interval_days"]),
                due=due,
                last_reviewed=last,
            )
            stored = state.as_dict()
            if atom in fsrs_weights:  # a card still in learning (interval 0) stays SM-2's
                stored = fsrs_state_from_sm2(stored, fsrs_weights[atom]) or stored
            new.append(
                {
                    "learner_id": learner,
                    "atom_id": atom,
                    "state": stored,
                    "due_at": due,
                    "last_reviewed_at": last,
                    "reviews": state.repetitions,
                    "origin": Origin.LEGACY,
                    "legacy_key": key,
                }
            )
            outcome.migrated_keys.append(key)
        rows_insert(LearnerAtomState, new)
        return outcome

    @staticmethod
    def _card_problem(row) -> tuple | None:
        ease = row.get("ease")
        if ease is None or ease < MIN_EASINESS:
            return "invalid_ease", f"ease {ease} is below SM-2's floor of {MIN_EASINESS}."
        if row.get("interval_days") is None or row["interval_days"] < 0:
            return "invalid_interval", f"interval_days {row.get('interval_days')}."
        try:  # due dates lie ahead by nature: only their presence and form are checked
            due = as_utc(row.get("due_at"))
        except ValueError as exc:
            return "invalid_timestamp", f"due_at: {exc}"
        if due is None:
            return "missing_timestamp", "due_at is empty."
        return timestamp_problem(row.get("last_reviewed_at"), "last_reviewed_at", required=False)


def _fsrs_courses_weights(atom_ids) -> dict:
    """{atom id: its course's FSRS weights in use (None: the defaults)} for the atoms whose
    course (that of the first live concept, as for live reviews) is scheduled with FSRS."""
    course_of = {}
    for atom_id, course_id, algorithm in (
        LearningAtom.live_concepts.through.objects.filter(learningatom_id__in=atom_ids)
        .order_by("learningatom_id", "concept_id")
        .values_list("learningatom_id", "concept__course_id", "concept__course__default_algorithm")
    ):
        course_of.setdefault(atom_id, (course_id, algorithm))
    weights_of_course = {
        course_id: course_scheduling_policy(
            course_id=course_id,
            algorithm="fsrs",
            desired_retention=0.9,
            maximum_interval_days=36500,
        ).fsrs_parameters
        for course_id, algorithm in set(course_of.values())
        if algorithm == "fsrs"
    }
    return {
        atom_id: weights_of_course[course_id]
        for atom_id, (course_id, _) in course_of.items()
        if course_id in weights_of_course
    }


class MistakeLogs(_RowByRow):
    """A mistake log becomes a concept-linked mistake; its subtype is the template code in
    lower case (``GENDER_AGREEMENT`` → ``gender_agreement``)."""

    name = "mistake_logs"
    depends_on = ("users", "bits")
    model = Mistake
    needs_bit = True

    @staticmethod
    def subtype(row: dict) -> str:
        return slugify(row.get("template_code") or "").replace("-", "_")[:64]

    def row_problem(self, row: dict) -> tuple | None:
        return timestamp_problem(row.get("created_at"), "created_at") or (
            None if self.subtype(row) else ("missing_template_code", "template_code is empty.")
        )

    def v2_row(self, row: dict, key: str) -> dict:
        return {
            "id": legacy_uuid("mistake_logs", key),
            "learner_id": self.users.v2_id(row["user_id"]),
            "concept_id": self.index.get(row["bit_id"])[0],
            "subtype": self.subtype(row),
            "raw_text": row.get("raw_text") or "",
            "occurred_at": as_utc(row["created_at"]),
        }


class Points(_RowByRow):
    name = "points"
    depends_on = ("users",)
    model = XPEvent

    def row_problem(self, row: dict) -> tuple | None:
        if row.get("reason") not in POINT_REASONS:
            return "unknown_point_reason", f"{row.get('reason')!r}."
        if row.get("amount") is None:
            return "missing_amount", "No amount."
        return timestamp_problem(row.get("created_at"), "created_at")

    def v2_row(self, row: dict, key: str) -> dict:
        return {
            "learner_id": self.users.v2_id(row["user_id"]),
            "amount": int(row["amount"]),
            "reason": POINT_REASONS[row["reason"]],
            "occurred_at": as_utc(row["created_at"]),
        }


class UserProfiles(_PerLearner):
    """Cached streaks are not copied: v2 derives streaks from attempts. Each profile is
    compared with the streak recomputed as of its ``last_practice_date``, and the comparison
    is stored (StreakComparison) so staff see every disagreement."""

    name = "user_profiles"
    depends_on = ("users", "attempts", "json_attempts")

    def migrated_count(self) -> int:
        return StreakComparison.objects.filter(entity=self.name).count()

    def migrate(self, rows: list[dict]) -> BatchOutcome:
        outcome = BatchOutcome()
        user_problems = self.users.problems(r.get("user_id") for r in rows)
        compared = []
        for row in rows:
            key = self.key_of(row)
            problem = self._common(row, user_problems)
            try:
                as_of = None if problem else as_date(row.get("last_practice_date"))
            except ValueError as exc:
                problem = ("invalid_date", str(exc))
            if problem:
                outcome.reject(key, problem, jsonable(row))
                continue
            compared.append(
                (key, row["user_id"], row.get("current_streak"), row.get("longest_streak"), as_of)
            )
            outcome.migrated_keys.append(key)
        streak_comparisons_store(self.name, compared)
        return outcome


def streak_comparisons_store(entity: str, items: list[tuple]) -> None:
    """items: (legacy_key, legacy user id, v1 current, v1 longest, as-of date or None)."""
    recomputed = streaks_recomputed(
        {legacy_uuid("users", uid): as_of for _, uid, _, _, as_of in items}
    )
    comparisons = []
    for key, uid, current, longest, _ in items:
        v2_current, v2_longest = recomputed[legacy_uuid("users", uid)]
        comparisons.append(
            StreakComparison(
                entity=entity,
                legacy_key=key,
                learner_id=legacy_uuid("users", uid),
                v1_current=current,
                v1_longest=longest,
                v2_current=v2_current,
                v2_longest=v2_longest,
                agrees=(current, longest) == (v2_current, v2_longest),
                compared_at=timezone.now(),
            )
        )
    StreakComparison.objects.bulk_create(  # one upsert: a re-run refreshes the comparison
        comparisons,
        update_conflicts=True,
        unique_fields=["entity", "legacy_key"],
        update_fields=["learner", "v1_current", "v1_longest", "v2_current", "v2_longest",
                       "agrees", "compared_at"],
    )  # fmt: skip


class Tasks(_RowByRow):
    name = "tasks"
    depends_on = ("users",)
    model = StudyTask

    def row_problem(self, row: dict) -> tuple | None:
        if not (row.get("title") or "").strip():
            return "missing_title", "The task has no title."
        try:
            signals = json.loads(row.get("signals") or "{}")
        except json.JSONDecodeError as exc:
            return "malformed_signals", f"{exc.msg} at character {exc.pos}."
        if not isinstance(signals, dict):
            return "malformed_signals", "signals is not a JSON object."
        return timestamp_problem(row.get("due_at"), "due_at", required=False)

    def v2_row(self, row: dict, key: str) -> dict:
        return {
            "id": legacy_uuid("tasks", key),
            "learner_id": self.users.v2_id(row["user_id"]),
            "title": row["title"][:255],
            "course": row.get("course") or "",
            "due_at": as_utc(row.get("due_at")),
            "priority": row.get("priority") or 0,
            "status": row.get("status") or "open",
            "signals": json.loads(row.get("signals") or "{}"),
            "created_at": timezone.now(),
        }
