"""What is compared, per entity: v1's rows, and the v2 rows that stand for them, both written
in v1's terms (v1 ids of the user, bit, session...), column by column.

The v2 rows that stand for v1 row K are the entity's rows with ``legacy_key = K``: migrated
rows (origin legacy) and v2 rows the outbox pushed to v1 (origin v2, with the v1 id it got).
Rows that are no v1 row are left out: JSON attempts (``json:...``), split sessions
(``123@7``), bits' own flashcard atoms (``bit:...``) and v2 rows without a legacy key (those
in the outbox are reported on their own, see explain.py). A legacy key that is not a v1 id
is kept and reported: it can match no v1 row.

v1 rows that are quarantined or merged are *held*: left out of the hashed ranges and listed
by key (sides.py), each explained by its reason.

Only what the backfill's mapping preserves is compared (the mappers are in
apps/legacy_sync/backfill/), each v1 column written the way the mapper writes it:

- users: email (trimmed, lower-cased), display_name (NULL → "", first 150 characters),
  timezone (NULL or "" → UTC). Not date_joined: a NULL created_at became the migration time;
  not the password (migrated learners get an unusable one).
- chapters: app (the course's ``app:<name>`` key; app_name trimmed), title (first 200),
  position (NULL or negative → 0).
- bits: chapter (the concept's first v1 unit by position, as the outbox picks it), text,
  translation (NULL → ""), difficulty (NULL → 3). Not the bit's own flashcard atom (derived
  from text and translation).
- flashcards: bit (the atom's first live concept), front (trimmed; the published revision's
  front or prompt: what learners see, and what the outbox sends), back for plain-text answers
  (trimmed). Not a JSON back: it becomes mcq options or Parsons blocks, which are not one
  column. Not the atom type (derived from the back).
- sessions: user, app (course of the session's chapter), started_at, completed_at. Not
  chapter itself (v2 sessions belong to a course) nor kind/device (v2 only).
- attempts: user, bit (the atom's first live concept: a bit's own card, or a pushed atom's
  concept), session (a split ``123@7`` is 123), correct, user_answer (NULL → ""),
  answered_at (created_at). An answer that is JSON text (what the outbox writes for a v2
  response) is not compared: jsonb orders keys its own way. Not score/quality (derived from
  correct).
- learner_attempts: per v1 user, the number of attempts: v1 rows with a user id, less the
  quarantined ones (v2 cannot have those); v2 rows standing for v1 attempts, grouped by the
  learner's legacy key.
- review_cards: user, bit, ease, interval_days, repetitions (NULL → 0), due_at,
  last_reviewed_at (the SM-2 state's fields and the state row's due/last-reviewed columns).
  v2 reviews move the state on, so a card practised in v2 differs from v1's: reported, and
  never repaired by overwriting the learner's v2 schedule.
- mistake_logs: user, bit (the mistake's concept), subtype (the template code slugified as
  the mapper does), raw_text (NULL → ""), occurred_at.
- points: user, reason (mapped to the v2 XP reason), amount, occurred_at.
- tasks: user, title (first 255), course (NULL → ""), due_at, priority (NULL → 0), status
  (NULL or "" → open). Not signals: v1 keeps JSON text (malformed ones are quarantined) and
  v2 a JSON value, so equal text would be neither necessary nor sufficient. A learner sets a
  migrated task's status in v2 (done, dismissed) and the outbox writes it to v1's row, so
  the status is ``v2_edits``: see repair.py for who wins it.

Mistakes and tasks the outbox pushed compare like migrated ones: the v2 row carries the v1 id
(``legacy_key``) and the mapper writes v1's columns the way the backfill reads them back.
"""

from collections.abc import Callable
from dataclasses import dataclass

from apps.accounts.models import User
from apps.content.models import AtomRevision, LearningAtom
from apps.curriculum.models import Concept, Course, Unit
from apps.learning.models import Attempt, Mistake, StudySession, StudyTask, XPEvent
from apps.scheduler.models import LearnerAtomState

from ..backfill.curriculum import BIT_CARD_PREFIX
from ..backfill.json_files import JSON_PREFIX
from ..v1.entities import BY_NAME, POINT_REASONS
from .dialects import Dialect

Expr = str | Callable[[Dialect], str]
TRUE = "1 = 1"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # how it is written for the hash: rowhash.KINDS
    v1: Expr
    v2: Expr


@dataclass(frozen=True)
class Source:
    """One side's rows: ``tables`` aliases the entity's own table ``t``."""

    key: str
    tables: str
    where: str = ""
    group_by: str = ""


@dataclass(frozen=True)
class Mapping:
    name: str
    columns: tuple[Column, ...]
    v1: Source
    v2: Source
    v1_domain: str  # SELECT MIN(key), MAX(key) on v1: the key space to bisect
    model: type | None = None  # the v2 model; None for derived figures (per-learner counts)
    key_is_text: bool = False
    # Legacy rows' ids are legacy_uuid(id_entity, key): v2 ranges can then use the primary key.
    id_entity: str = ""
    # Repair of a mismatch (v1 wins) replaces the v2 copy only for rows v2 never edits;
    # otherwise this says why it is left to staff.
    kept_because: str = ""
    backfill: str = ""  # the backfill entity that migrates its rows ("" → none)
    # Whose quarantined and merged keys are set aside from v1's rows, and in which column
    # (default: this entity's, in its key column).
    held_by: str = ""
    held_column: str = ""
    # Columns v2's services change on migrated rows and push to v1: once the outbox has an
    # entry for such a row, a mismatch there is v2's to settle (explain.py, repair.py).
    v2_edits: tuple[str, ...] = ()

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(c.kind for c in self.columns)

    @property
    def replaceable(self) -> bool:
        return not self.kept_because

    @property
    def held_entity(self) -> str:
        return self.held_by or self.name

    @property
    def held_key_column(self) -> str:
        return self.held_column or self.v1.key

    def source(self, side: str) -> Source:
        return self.v1 if side == "v1" else self.v2

    def row_sql(self, side: str, dialect: Dialect, narrow: str = TRUE) -> str:
        """``SELECT key, c_<column>... [, m_origin, m_id]`` of one side, its rows limited by
        the ``narrow`` condition."""
        source = self.source(side)
        selected = [f"{source.key} AS key"]
        for column in self.columns:
            expr = column.v1 if side == "v1" else column.v2
            selected.append(f"{expr(dialect) if callable(expr) else expr} AS c_{column.name}")
        if side == "v2" and self.model is not None:
            selected += ["t.origin AS m_origin", "t.id AS m_id"]
        where = " AND ".join(part for part in (source.where, f"({narrow})") if part)
        sql = f"SELECT {', '.join(selected)} FROM {source.tables} WHERE {where}"  # noqa: S608
        return f"{sql} GROUP BY {source.group_by}" if source.group_by else sql


def _table(model) -> str:
    return model._meta.db_table


USERS, COURSES, UNITS, CONCEPTS = _table(User), _table(Course), _table(Unit), _table(Concept)
ATOMS, REVISIONS = _table(LearningAtom), _table(AtomRevision)
LIVE_CONCEPTS = LearningAtom.live_concepts.through._meta.db_table
CONCEPT_UNITS = Concept.units.through._meta.db_table
SESSIONS, ATTEMPTS = _table(StudySession), _table(Attempt)
KEYED = "t.legacy_key IS NOT NULL AND t.legacy_key <> ''"
V1_ATTEMPT = f"{KEYED} AND t.legacy_key NOT LIKE '{JSON_PREFIX}%%'"
LEARNER = f"LEFT JOIN {USERS} u ON u.id = t.learner_id"
# Each atom's bit: its first live concept by id, as the outbox maps atoms to v1 bits; for a
# bit's own card (``bit:N``) that is bit N. One row per atom, joined once, not per row.
ATOM_BITS = (
    f"(SELECT lc.learningatom_id AS atom_id, co.legacy_key AS bit FROM {LIVE_CONCEPTS} lc "  # noqa: S608
    f"JOIN {CONCEPTS} co ON co.id = lc.concept_id WHERE lc.concept_id = (SELECT lc1.concept_id "
    f"FROM {LIVE_CONCEPTS} lc1 WHERE lc1.learningatom_id = lc.learningatom_id "
    "ORDER BY lc1.concept_id LIMIT 1))"
)
BIT_ATOM = f"LEFT JOIN {ATOM_BITS} ab ON ab.atom_id = t.atom_id"


def _plain_back(d: Dialect) -> str:
    """A flashcard's back when it is a plain answer; a JSON back (mcq, Parsons) is NULL, as
    its atom's content has no ``back``."""
    back = d.trimmed("t.back")
    return f"CASE WHEN {back} LIKE '{{%%' OR {back} LIKE '[%%' THEN NULL ELSE {back} END"


def _plain_answer(expr: str) -> str:
    """An answer, or NULL when it is JSON text: the outbox writes a v2 response with no
    ``user_answer`` as JSON, which jsonb would give back with its keys in another order."""
    return f"CASE WHEN {expr} LIKE '{{%%' THEN NULL ELSE {expr} END"


def _v1_domain(table: str, column: str = "id") -> str:
    return f"SELECT MIN({column}), MAX({column}) FROM {table}"  # noqa: S608 - fixed names


def _point_reason(expr: str) -> str:
    cases = " ".join(f"WHEN '{v1}' THEN '{v2}'" for v1, v2 in POINT_REASONS.items())
    return f"CASE {expr} {cases} END"


def _entity_mapping(name: str, *, v1_joins: str = "", **fields) -> Mapping:
    """The mapping of a v1 entity: its v1 table, key space, v2 model and backfill entity come
    from the registry (v1/entities.py). Text keys span the whole 32-bit hash space."""
    v1 = BY_NAME[name]
    return Mapping(
        name=name,
        v1=Source(key=f"t.{v1.key}", tables=f"{v1.table} t {v1_joins}".rstrip()),
        v1_domain="" if v1.key_is_text else _v1_domain(v1.table, v1.key),
        model=v1.model,
        key_is_text=v1.key_is_text,
        backfill=name,
        **fields,
    )


def _v1_user(name: str = "user") -> Column:
    return Column(name, "text", "t.user_id", "u.legacy_key")


MAPPINGS: tuple[Mapping, ...] = (
    _entity_mapping(
        "users",
        columns=(
            Column("email", "text", lambda d: f"lower({d.trimmed('t.email')})", "t.email"),
            Column("display_name", "text", "substr(COALESCE(t.display_name, ''), 1, 150)",
                   "t.display_name"),
            Column("timezone", "text", "COALESCE(NULLIF(t.timezone, ''), 'UTC')", "t.timezone"),
        ),
        v2=Source(key="t.legacy_key", tables=f"{USERS} t", where=KEYED),
        id_entity="users",
        kept_because="a v2 account has a password, roles and settings of its own",
    ),
    _entity_mapping(
        "chapters",
        columns=(
            Column("app", "text", lambda d: d.trimmed("t.app_name"),
                   lambda d: d.after_prefix("c.legacy_key", "app:")),
            Column("title", "text", "substr(t.title, 1, 200)", "t.title"),
            Column("position", "int",
                   "CASE WHEN COALESCE(t.position, 0) < 0 THEN 0 ELSE COALESCE(t.position, 0) END",
                   "t.position"),
        ),
        v2=Source(key="t.legacy_key", tables=f"{UNITS} t LEFT JOIN {COURSES} c "
                  "ON c.id = t.course_id", where=KEYED),
        id_entity="chapters",
        kept_because="units are curriculum that editors change in v2",
    ),
    _entity_mapping(
        "bits",
        columns=(
            Column("chapter", "text", "t.chapter_id",
                   f"(SELECT un.legacy_key FROM {CONCEPT_UNITS} cu JOIN {UNITS} un "  # noqa: S608
                   "ON un.id = cu.unit_id WHERE cu.concept_id = t.id AND un.legacy_key IS NOT NULL "
                   "ORDER BY un.position, un.id LIMIT 1)"),
            Column("text", "text", "t.text", "t.text"),
            Column("translation", "text", "COALESCE(t.translation, '')", "t.translation"),
            Column("difficulty", "int", "COALESCE(t.difficulty, 3)", "t.difficulty"),
        ),
        v2=Source(key="t.legacy_key", tables=f"{CONCEPTS} t", where=KEYED),
        id_entity="bits",
        kept_because="concepts are curriculum that editors change in v2",
    ),
    _entity_mapping(
        "flashcards",
        columns=(
            Column("bit", "text", "t.bit_id", "ab.bit"),
            Column("front", "text", lambda d: d.trimmed("t.front"),
                   lambda d: f"COALESCE({d.json_path_text('r.snapshot', 'content', 'front')}, "
                   f"{d.json_path_text('r.snapshot', 'content', 'prompt')})"),
            Column("back", "text", _plain_back,
                   lambda d: d.json_path_text("r.snapshot", "content", "back")),
        ),
        v2=Source(key="t.legacy_key",
                  tables=f"{ATOMS} t LEFT JOIN {ATOM_BITS} ab ON ab.atom_id = t.id "
                  f"LEFT JOIN {REVISIONS} r ON r.id = t.published_revision_id",
                  where=f"{KEYED} AND t.legacy_key NOT LIKE '{BIT_CARD_PREFIX}%%'"),
        kept_because="atoms have revisions and review history in v2",
    ),
    _entity_mapping(
        "sessions",
        columns=(
            _v1_user(),
            Column("app", "text", lambda d: d.trimmed("ch.app_name"),
                   lambda d: d.after_prefix("c.legacy_key", "app:")),
            Column("started_at", "ts", "t.started_at", "t.started_at"),
            Column("completed_at", "ts", "t.completed_at", "t.completed_at"),
        ),
        v1_joins="LEFT JOIN chapters ch ON ch.id = t.chapter_id",
        v2=Source(key="t.legacy_key",
                  tables=f"{SESSIONS} t {LEARNER} LEFT JOIN {COURSES} c ON c.id = t.course_id",
                  where=f"{KEYED} AND t.legacy_key NOT LIKE '%%@%%'"),
        id_entity="sessions",
    ),
    _entity_mapping(
        "attempts",
        columns=(
            _v1_user(),
            Column("bit", "text", "t.bit_id", "ab.bit"),
            Column("session", "text", "t.session_id", lambda d: d.before_at("s.legacy_key")),
            Column("correct", "bool", "t.correct", "t.correct"),
            Column("user_answer", "text", _plain_answer("COALESCE(t.user_answer, '')"),
                   lambda d: _plain_answer(
                       f"COALESCE({d.json_text('t.response', 'user_answer')}, '{{')")),
            Column("answered_at", "ts", "t.created_at", "t.answered_at"),
        ),
        v2=Source(key="t.legacy_key",
                  tables=f"{ATTEMPTS} t {LEARNER} {BIT_ATOM} "
                  f"LEFT JOIN {SESSIONS} s ON s.id = t.session_id",
                  where=V1_ATTEMPT),
        id_entity="attempts",
    ),
    Mapping(
        name="learner_attempts",
        columns=(Column("attempts", "int", "COUNT(*)", "COUNT(*)"),),
        v1=Source(key="t.user_id", tables="attempts t", where="t.user_id IS NOT NULL",
                  group_by="t.user_id"),
        v2=Source(key="u.legacy_key", tables=f"{ATTEMPTS} t JOIN {USERS} u ON u.id = t.learner_id",
                  where=f"{V1_ATTEMPT} AND u.legacy_key IS NOT NULL AND u.legacy_key <> ''",
                  group_by="u.legacy_key"),
        v1_domain=_v1_domain("attempts", "user_id"),
        kept_because="a per-learner count; its attempts carry the fix",
        held_by="attempts",  # quarantined attempts are not counted: v2 cannot have them
        held_column="t.id",
    ),
    _entity_mapping(
        "review_cards",
        columns=(
            _v1_user(),
            Column("bit", "text", "t.bit_id", "ab.bit"),
            Column("ease", "float", "t.ease", lambda d: d.json_number("t.state", "easiness")),
            Column("interval_days", "int", "t.interval_days",
                   lambda d: d.json_number("t.state", "interval_days")),
            Column("repetitions", "int", "COALESCE(t.repetitions, 0)",
                   lambda d: d.json_number("t.state", "repetitions")),
            Column("due_at", "ts", "t.due_at", "t.due_at"),
            Column("last_reviewed_at", "ts", "t.last_reviewed_at", "t.last_reviewed_at"),
        ),
        v2=Source(key="t.legacy_key", tables=f"{_table(LearnerAtomState)} t {LEARNER} {BIT_ATOM}",
                  where=KEYED),
        kept_because="the scheduler state moves on with the learner's v2 reviews",
    ),
    _entity_mapping(
        "mistake_logs",
        columns=(
            _v1_user(),
            Column("bit", "text", "t.bit_id", "co.legacy_key"),
            Column("subtype", "text", lambda d: d.subtype("t.template_code"), "t.subtype"),
            Column("raw_text", "text", "COALESCE(t.raw_text, '')", "t.raw_text"),
            Column("occurred_at", "ts", "t.created_at", "t.occurred_at"),
        ),
        v2=Source(key="t.legacy_key", tables=f"{_table(Mistake)} t {LEARNER} "
                  f"LEFT JOIN {CONCEPTS} co ON co.id = t.concept_id", where=KEYED),
        id_entity="mistake_logs",
    ),
    _entity_mapping(
        "points",
        columns=(
            _v1_user(),
            Column("reason", "text", _point_reason("t.reason"), "t.reason"),
            Column("amount", "int", "t.amount", "t.amount"),
            Column("occurred_at", "ts", "t.created_at", "t.occurred_at"),
        ),
        v2=Source(key="t.legacy_key", tables=f"{_table(XPEvent)} t {LEARNER}", where=KEYED),
    ),
    _entity_mapping(
        "tasks",
        columns=(
            _v1_user(),
            Column("title", "text", "substr(t.title, 1, 255)", "t.title"),
            Column("course", "text", "COALESCE(t.course, '')", "t.course"),
            Column("due_at", "ts", "t.due_at", "t.due_at"),
            Column("priority", "int", "COALESCE(t.priority, 0)", "t.priority"),
            Column("status", "text", "COALESCE(NULLIF(t.status, ''), 'open')", "t.status"),
        ),
        v2=Source(key="t.legacy_key", tables=f"{_table(StudyTask)} t {LEARNER}", where=KEYED),
        v2_edits=("status",),
    ),
)  # fmt: skip

MAPPING_NAMES = tuple(m.name for m in MAPPINGS)


def mappings_select(names=None) -> list[Mapping]:
    """The asked-for mappings in dependency order; unknown names are an error."""
    if not names:
        return list(MAPPINGS)
    unknown = sorted(set(names) - set(MAPPING_NAMES))
    if unknown:
        raise ValueError(
            f"Unknown entities: {', '.join(unknown)}. Known: {', '.join(MAPPING_NAMES)}."
        )
    return [m for m in MAPPINGS if m.name in names]
