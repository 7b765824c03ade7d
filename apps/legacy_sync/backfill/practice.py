"""v1 practice history: sessions → study sessions, attempts → attempts.

A v1 session belongs to one chapter, but some hold attempts on bits of other chapters. Such
a session is split: each other chapter gets a study session of its own (legacy key
``session@chapter``, same learner and times) and its attempts go there; the session's own
chapter keeps the original. v1's verdict is kept as it was: a migrated attempt is not
regraded, its score is 1 or 0, and its SM-2 quality 4 (right) or 1 (wrong).
"""

from datetime import timedelta

from django.utils import timezone

from apps.content.models import LearningAtom
from apps.core.models import Origin
from apps.curriculum.models import Concept, Unit
from apps.learning.models import Attempt, StudySession
from apps.learning.services.partitions import attempt_partitions_ensure_months, month_start

from .curriculum import BIT_CARD_PREFIX
from .entity import BatchOutcome, Entity
from .keys import as_utc, jsonable, legacy_uuid
from .parents import ParentCheck, parent_problem
from .writer import rows_insert

# Clocks drift; a timestamp further ahead than this is v1 junk, not a fast clock.
FUTURE_TOLERANCE = timedelta(days=1)
QUALITY_RIGHT, QUALITY_WRONG = 4, 1


def timestamp_problem(
    value, label: str, *, required: bool = True, latest=None
) -> tuple[str, str] | None:
    """Why a v1 timestamp is unusable, if it is. ``latest`` (now + tolerance) may be passed
    in by batch code that checks thousands of timestamps."""
    return timestamp_read(value, label, required=required, latest=latest)[1]


def timestamp_read(value, label: str, *, required: bool = True, latest=None) -> tuple:
    """(the timestamp in UTC, None), or (None, why it is unusable)."""
    try:
        moment = as_utc(value)
    except ValueError as exc:
        return None, ("invalid_timestamp", f"{label}: {exc}")
    if moment is None:
        return None, (("missing_timestamp", f"{label} is empty.") if required else None)
    if moment > (latest or timezone.now() + FUTURE_TOLERANCE):
        return None, ("future_timestamp", f"{label} {moment.isoformat()} is in the future.")
    return moment, None


class BitIndex:
    """Legacy bit id → (concept id, legacy chapter id, bit-card atom id, its revision id)."""

    def __init__(self):
        self._bits: dict | None = None

    def get(self, bit_id) -> tuple | None:
        if self._bits is None:
            chapters = dict(
                Concept.objects.filter(origin=Origin.LEGACY).values_list("pk", "units__legacy_key")
            )
            self._bits = {}
            for key, atom_id, revision_id, concept_id in LearningAtom.objects.filter(
                origin=Origin.LEGACY, legacy_key__startswith=BIT_CARD_PREFIX
            ).values_list("legacy_key", "pk", "published_revision_id", "concept_weights__concept"):
                bit = int(key[len(BIT_CARD_PREFIX) :])
                chapter = chapters.get(concept_id)
                self._bits[bit] = (
                    concept_id,
                    int(chapter) if chapter else None,
                    atom_id,
                    revision_id,
                )
        return self._bits.get(bit_id)

    def pushed_load(self, bit_ids) -> None:
        """Index bits that v2 created and pushed to v1 (v2 concepts holding a v1 bit id): v1's
        attempts on them map to the concept's first published atom."""
        keys = [str(b) for b in bit_ids if isinstance(b, int)]
        if not keys:
            return
        self.get(None)  # load the index first
        for concept_id, key in Concept.objects.filter(
            origin=Origin.V2, legacy_key__in=keys
        ).values_list("pk", "legacy_key"):
            atom = (
                LearningAtom.objects.filter(live_concepts=concept_id)
                .exclude(published_revision=None)
                .order_by("pk").values_list("pk", "published_revision_id").first()
            )  # fmt: skip
            chapter = (
                Concept.objects.filter(pk=concept_id).exclude(units__legacy_key=None)
                .values_list("units__legacy_key", flat=True).first()
            )  # fmt: skip
            if atom is not None:
                self._bits[int(key)] = (concept_id, int(chapter) if chapter else None, *atom)


class Sessions(Entity):
    name = "sessions"
    depends_on = ("users", "chapters")

    def __init__(self):
        self.users = ParentCheck("users")
        self.chapters = ParentCheck("chapters")

    def migrated_count(self) -> int:
        return (
            StudySession.objects.filter(origin=Origin.LEGACY)
            .exclude(legacy_key__contains="@")
            .count()
        )

    def migrate(self, rows: list[dict]) -> BatchOutcome:
        outcome = BatchOutcome()
        user_problems = self.users.problems(r.get("user_id") for r in rows)
        chapter_problems = self.chapters.problems(r.get("chapter_id") for r in rows)
        unit_course = dict(
            Unit.objects.filter(
                pk__in={legacy_uuid("chapters", r["chapter_id"]) for r in rows if r["chapter_id"]}
            ).values_list("pk", "course_id")
        )
        new = []
        for row in rows:
            key = str(row["id"])
            problem = (
                parent_problem(row, "user_id", "user", user_problems)
                or parent_problem(row, "chapter_id", "chapter", chapter_problems)
                or timestamp_problem(row.get("started_at"), "started_at")
                or timestamp_problem(row.get("completed_at"), "completed_at", required=False)
            )
            if not problem:
                started, completed = as_utc(row["started_at"]), as_utc(row.get("completed_at"))
                if completed and completed < started:
                    problem = ("completed_before_started", f"{completed} < {started}.")
            if problem:
                outcome.reject(key, problem, jsonable(row))
                continue
            new.append(
                {
                    "id": legacy_uuid("sessions", key),
                    "learner_id": self.users.v2_id(row["user_id"]),
                    "course_id": unit_course[legacy_uuid("chapters", row["chapter_id"])],
                    "started_at": started,
                    "completed_at": completed,
                    "app_version": "v1",
                    "origin": Origin.LEGACY,
                    "legacy_key": key,
                }
            )
            outcome.migrated_keys.append(key)
        rows_insert(StudySession, new)
        return outcome


def attempt_rows_insert(rows: list[dict], months_ready: set) -> None:
    """``rows_insert`` for attempts, first creating the monthly partitions they fall in (on
    PostgreSQL), so v1's history is spread over months rather than the default partition.
    ``months_ready`` is the caller's memory of months already seen, to skip the catalogue."""
    months = {month_start(row["answered_at"]) for row in rows} - months_ready
    if months:
        attempt_partitions_ensure_months(months)
        months_ready |= months
    rows_insert(Attempt, rows)


class Attempts(Entity):
    name = "attempts"
    bulk_models = (Attempt,)
    depends_on = ("users", "bits", "sessions")
    select = (
        "SELECT attempts.*, sessions.user_id AS session_user_id, "
        "sessions.chapter_id AS session_chapter_id "
        "FROM attempts LEFT JOIN sessions ON sessions.id = attempts.session_id"
    )

    def __init__(self):
        self.users = ParentCheck("users")
        self.sessions = ParentCheck("sessions")
        self.bits = ParentCheck("bits")
        self.index = BitIndex()
        self.months_ready: set = set()

    def migrated_count(self) -> int:
        return (
            Attempt.objects.filter(origin=Origin.LEGACY)
            .exclude(legacy_key__startswith="json:")
            .count()
        )

    def migrate(self, rows: list[dict]) -> BatchOutcome:
        outcome = BatchOutcome()
        user_problems = self.users.problems(r.get("user_id") for r in rows)
        session_problems = self.sessions.problems(
            r["session_id"] for r in rows if r.get("session_user_id") is not None
        )
        unknown_bits = {r.get("bit_id") for r in rows if self.index.get(r.get("bit_id")) is None}
        if unknown_bits:
            self.index.pushed_load(unknown_bits)
            unknown_bits = {b for b in unknown_bits if self.index.get(b) is None}
        bit_problems = self.bits.problems(unknown_bits)
        splits: dict[str, tuple] = {}
        new = []
        latest = timezone.now() + FUTURE_TOLERANCE
        learners: dict = {}  # v1 key → v2 id, worked out once per batch
        sessions: dict = {}
        for row in rows:
            key = str(row["id"])
            bit = self.index.get(row.get("bit_id"))
            answered, time_problem = timestamp_read(
                row.get("created_at"), "created_at", latest=latest
            )
            problem = (
                parent_problem(row, "user_id", "user", user_problems)
                or self._bit_problem(row, bit, bit_problems)
                or self._session_problem(row, session_problems)
                or time_problem
            )
            if not problem and row.get("correct") is None:
                problem = ("missing_verdict", "correct is empty.")
            if problem:
                outcome.reject(key, problem, jsonable(row))
                continue
            concept_id, chapter, atom_id, revision_id = bit
            session_id = None
            if row.get("session_id") is not None:
                session_key = str(row["session_id"])
                if chapter != row["session_chapter_id"]:
                    session_key = f"{session_key}@{chapter}"
                    splits[session_key] = (row["session_id"], concept_id)
                session_id = sessions.get(session_key)
                if session_id is None:
                    session_id = sessions[session_key] = self.sessions.v2_id(
                        row["session_id"] if session_key == str(row["session_id"]) else session_key
                    )
            attempt_id = legacy_uuid("attempts", key)
            correct = bool(row["correct"])
            new.append(
                {
                    "id": attempt_id,
                    "learner_id": learners.get(row["user_id"])
                    or learners.setdefault(row["user_id"], self.users.v2_id(row["user_id"])),
                    "atom_id": atom_id,
                    "revision_id": revision_id,
                    "session_id": session_id,
                    "client_attempt_id": attempt_id,
                    "response": {"user_answer": row.get("user_answer") or ""},
                    "correct": correct,
                    "score": 1.0 if correct else 0.0,
                    "quality": QUALITY_RIGHT if correct else QUALITY_WRONG,
                    "answered_at": answered,
                    "origin": Origin.LEGACY,
                    "legacy_key": key,
                }
            )
            outcome.migrated_keys.append(key)
        if splits:
            split_sessions_create(splits)
        attempt_rows_insert(new, self.months_ready)
        return outcome

    @staticmethod
    def _bit_problem(row, bit, bit_problems) -> tuple | None:
        if bit is not None:
            return None
        value = row.get("bit_id")
        if value is None:
            return "missing_bit", "bit_id is empty.", ""
        reason, blocked = bit_problems.get(value, ("parent_not_migrated", f"bits:{value}"))
        return reason, f"bit {value}.", blocked

    @staticmethod
    def _session_problem(row, session_problems) -> tuple | None:
        session = row.get("session_id")
        if session is None:
            return None  # v1 allowed attempts outside sessions
        if row.get("session_user_id") is None:
            return "unknown_session", f"session {session} is not in v1.", ""
        if session in session_problems:
            reason, blocked = session_problems[session]
            return reason, f"session {session}.", blocked
        if row["session_user_id"] != row.get("user_id"):
            return (
                "session_user_mismatch",
                f"the attempt's user {row.get('user_id')} is not the session's "
                f"({row['session_user_id']}).",
                "",
            )
        return None


def split_sessions_create(splits: dict[str, tuple]) -> None:
    """Create the per-chapter study sessions of split v1 sessions (idempotent)."""
    originals = {
        s.pk: s
        for s in StudySession.objects.filter(
            pk__in={legacy_uuid("sessions", sid) for sid, _ in splits.values()}
        )
    }
    course_of = dict(
        Concept.objects.filter(pk__in={c for _, c in splits.values()}).values_list(
            "pk", "course_id"
        )
    )
    rows_insert(
        StudySession,
        [
            {
                "id": legacy_uuid("sessions", key),
                "learner_id": original.learner_id,
                "course_id": course_of[concept_id],
                "started_at": original.started_at,
                "completed_at": original.completed_at,
                "app_version": "v1",
                "origin": Origin.LEGACY,
                "legacy_key": key,
            }
            for key, (sid, concept_id) in splits.items()
            for original in [originals[legacy_uuid("sessions", sid)]]
        ],
    )
