"""v2 rows in v1's terms: the reverse of the backfill's mappers, for the outbox.

Each mapper takes a v2 row and returns its v1 row's columns, or raises:
- ``V2Only`` when v1 cannot represent it (a native course's concept, a matching atom, a
  staff account): the difference is recorded and explained, never pushed;
- ``Waiting`` when a parent it names (the learner, the session, the bit) has no v1 id yet.
  If nothing is queued for that parent, it is queued now, so enabling dual write midway
  still pushes the older rows a new one needs.

v1 stores naive UTC timestamps.
"""

import json
from datetime import UTC, datetime

from apps.accounts.models import User
from apps.content.models import LearningAtom
from apps.core.models import Origin
from apps.curriculum.models import Concept, Unit
from apps.learning.models import Attempt, Mistake, StudySession, StudyTask, XPEvent

from ...models import OutboxEntry, OutboxStatus
from ...v1.entities import BY_NAME, V1_POINT_REASONS
from ...v1.models import LegacyBit

V1_TEXT = LegacyBit._meta.get_field("text").max_length
V1_TRANSLATION = LegacyBit._meta.get_field("translation").max_length
FLASHCARD_TYPES = ("flashcard", "mcq", "parsons")


class V2Only(Exception):
    """v1 cannot represent the row; the message says why."""


class Waiting(Exception):
    """``queued``: the parent's entry, when this call queued it (so it can go first now)."""

    def __init__(self, entity: str, v2_id, queued: OutboxEntry | None = None):
        super().__init__(f"waiting for {entity} {v2_id} to reach v1")
        self.entity, self.v2_id, self.queued = entity, v2_id, queued


# The entities pushed to v1 (their model and table are in the registry), with the related
# rows their mapper reads.
RELATED = {
    "users": (),
    "bits": (),
    "flashcards": ("published_revision",),
    "sessions": ("learner", "course"),
    "attempts": ("learner", "session", "atom"),
    "points": ("learner",),
    "mistake_logs": ("learner", "concept"),
    "tasks": ("learner",),
}
SPECS = {name: BY_NAME[name] for name in RELATED}
PUSH_ORDER = tuple(SPECS)  # parents before children within a batch's v1 transaction
# The v1 columns an upsert overwrites when v1 already has the row (default: all it maps).
# v2 changes only a task's status: v1's title, course, due date, priority and signals stay
# as v1 wrote them (the backfill reads them lossily: NULL course → "", NULL priority → 0).
UPDATED_ON_CONFLICT = {"tasks": ("status",)}
# A task v2 created itself gets a v1 id of v1's text form ("task-000042"), from its own id.
V2_TASK_KEY_PREFIX = "task-v2-"


def v1_time(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC).replace(tzinfo=None)


def v1_id(entity: str, row) -> int:
    """The v1 id of a parent row, or Waiting (queueing the parent if nothing is queued)."""
    key = (row.legacy_key or "").split("@", 1)[0]  # a split session stands for its original
    if key.isdigit():
        return int(key)
    if row.origin == Origin.LEGACY:
        raise V2Only(f"its {entity.rstrip('s')} {row.legacy_key} has no v1 id")
    entries = OutboxEntry.objects.filter(entity=entity, v2_id=str(row.pk))
    v2_only = entries.filter(status=OutboxStatus.V2_ONLY).first()
    if v2_only is not None:
        raise V2Only(f"its {entity.rstrip('s')} is v2-only ({v2_only.last_error})")
    queued = entries.filter(status=OutboxStatus.PENDING).first()
    if queued is None:
        raise Waiting(entity, row.pk, OutboxEntry.objects.create(entity=entity, v2_id=str(row.pk)))
    raise Waiting(entity, row.pk)


def user_row(user: User) -> dict:
    if user.is_staff or user.is_superuser:
        raise V2Only("staff accounts are not v1 learners")
    return {
        "email": user.email,
        "display_name": user.display_name or None,
        "timezone": user.timezone,
        "created_at": v1_time(user.created_at),
    }


def _chapter_of_concept(concept: Concept) -> int:
    chapter = (
        concept.units.exclude(legacy_key=None).order_by("position", "pk")
        .values_list("legacy_key", flat=True).first()
    )  # fmt: skip
    if chapter is None:
        raise V2Only("none of its units is a v1 chapter")
    return int(chapter)


def bit_row(concept: Concept) -> dict:
    return {
        "chapter_id": _chapter_of_concept(concept),
        "text": concept.text[:V1_TEXT],
        "translation": concept.translation[:V1_TRANSLATION] or None,
        "difficulty": concept.difficulty,
    }


def _bit_of_atom(atom_id) -> Concept:
    """The atom's first live concept (by id, as the scheduler orders them)."""
    concept = Concept.objects.filter(live_atoms=atom_id).order_by("pk").first()
    if concept is None:
        raise V2Only("its atom has no live concept")
    return concept


def flashcard_row(atom: LearningAtom) -> dict:
    revision = atom.published_revision
    if revision is None:
        raise V2Only("the atom is not published")
    snapshot = revision.snapshot
    kind, content = snapshot["atom_type"], snapshot["content"]
    if kind not in FLASHCARD_TYPES:
        raise V2Only(f"v1 flashcards hold {', '.join(FLASHCARD_TYPES)}, not {kind}")
    if kind == "flashcard":
        front, back = content.get("front", ""), content.get("back", "")
    elif kind == "mcq":
        options = sorted(snapshot["options"], key=lambda o: o["index"])
        correct = [i for i, o in enumerate(options) if o["is_correct"]]
        if len(correct) != 1:
            raise V2Only("v1 mcq cards have exactly one correct option")
        front = content.get("prompt", "")
        back = json.dumps({"options": [o["text"] for o in options], "correct_index": correct[0]})
    else:
        front = content.get("prompt", "")
        back = json.dumps(
            {"blocks": content.get("blocks", []),
             "correct_order": snapshot["grading_logic"].get("correct_order", [])}
        )  # fmt: skip
    return {
        "bit_id": v1_id("bits", _bit_of_atom(atom.pk)),
        "front": front,
        "back": back,
        "created_at": v1_time(atom.created_at),
    }


def _session_chapter(session: StudySession) -> int:
    """v1 sessions belong to a chapter: the unit of the first answered atom's concept, else
    the course's first v1 chapter."""
    first = session.attempts.order_by("answered_at", "pk").values_list("atom_id", flat=True)[:1]
    if first:
        try:
            return _chapter_of_concept(_bit_of_atom(first[0]))
        except V2Only:
            pass
    if session.course_id is not None:
        chapter = (
            Unit.objects.filter(course_id=session.course_id).exclude(legacy_key=None)
            .order_by("position", "pk").values_list("legacy_key", flat=True).first()
        )  # fmt: skip
        if chapter is not None:
            return int(chapter)
    raise V2Only("its course has no v1 chapter")


def session_row(session: StudySession) -> dict:
    return {
        "user_id": v1_id("users", session.learner),
        "chapter_id": _session_chapter(session),
        "started_at": v1_time(session.started_at),
        "completed_at": v1_time(session.completed_at),
    }


def attempt_row(attempt: Attempt) -> dict:
    session_id = None
    if attempt.session_id is not None:
        try:
            session_id = v1_id("sessions", attempt.session)
        except V2Only:
            session_id = None  # v1 allows attempts outside sessions
    response = attempt.response
    answer = response.get("user_answer") if isinstance(response, dict) else None
    return {
        "session_id": session_id,
        "user_id": v1_id("users", attempt.learner),
        "bit_id": v1_id("bits", _bit_of_atom(attempt.atom_id)),
        "correct": attempt.correct,
        "user_answer": answer if isinstance(answer, str) else json.dumps(response),
        "created_at": v1_time(attempt.answered_at),
    }


def point_row(event: XPEvent) -> dict:
    reason = V1_POINT_REASONS.get(event.reason)
    if reason is None:
        raise V2Only(f"v1 has no point reason for {event.reason} XP")
    return {
        "user_id": v1_id("users", event.learner),
        "reason": reason,
        "amount": event.amount,
        "created_at": v1_time(event.occurred_at),
    }


def mistake_row(mistake: Mistake) -> dict:
    """v1's mistake log has no notion of clearing (no atom, no status: a row per wrong
    answer). So a mistake is pushed whole, once; the entry a clearing queues re-sends the
    same unchanged row (an upsert that changes nothing in v1, or the insert itself when dual
    write came on between the mistake and its clearing). ``template_code`` is the subtype in
    v1's upper case, which the backfill's slugify reads back as the same subtype."""
    return {
        "user_id": v1_id("users", mistake.learner),
        "bit_id": v1_id("bits", mistake.concept),
        "template_code": mistake.subtype.upper(),
        "raw_text": mistake.raw_text,
        "created_at": v1_time(mistake.occurred_at),
    }


def task_row(task: StudyTask) -> dict:
    """The task as the backfill would read it back; on a task v1 has, only ``status`` is
    written (UPDATED_ON_CONFLICT): v2's statuses (done, dismissed) are stored as they are,
    as the backfill copies v1's."""
    return {
        "user_id": v1_id("users", task.learner),
        "title": task.title,
        "course": task.course or None,
        "due_at": v1_time(task.due_at),
        "priority": task.priority,
        "status": task.status,
        "signals": json.dumps(task.signals) if task.signals else None,
    }


MAPPERS = {
    "users": user_row,
    "bits": bit_row,
    "flashcards": flashcard_row,
    "sessions": session_row,
    "attempts": attempt_row,
    "points": point_row,
    "mistake_logs": mistake_row,
    "tasks": task_row,
}
