"""v1 → v2 while both are live: new v1 rows, and later completions of v1 sessions, through the
backfill's own mappers (one set of rules for history and for live traffic).

Cheap when nothing changed: each entity reads from its backfill checkpoint, one indexed
query that comes back empty. v1's ids come from sequences, so a v1 transaction can commit a
lower id after a higher one was pulled; each pull therefore re-reads the last LOOKBACK ids
and skips the rows v2 already holds. Skipped too (never pulled back): rows that v2 wrote to
v1 itself, which carry their v1 id on the v2 row (origin v2).

A batch that hits an IntegrityError is retried row by row; a row that still fails goes to
quarantine (``integrity_error``) and the rest are applied.

Pulls never overlap (``legacy_pull_locked``): the beat's task and the listener
(``listen.py``) take the same lock. A long-running puller passes a ``PullWindow``: it remembers
which lookback keys its earlier pulls handled, so each pull re-reads the lookback as keys only
and fetches and checks just the keys it has not met (the profile: re-checking 1,000 rows per
entity against v2 was most of an empty pull's 110 ms).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import User
from apps.core.models import Origin
from apps.curriculum.models import Concept
from apps.learning.models import Attempt, StudySession
from apps.learning.services.rollups import rollups_add_many

from ..backfill.entity import BatchOutcome, Entity, Rejection
from ..backfill.keys import as_utc, jsonable
from ..backfill.learner_states import learner_states_catch_up
from ..backfill.people import valid_timezone
from ..backfill.quarantine import quarantine_release, quarantine_store
from ..backfill.registry import entities_build
from ..models import (
    BackfillCheckpoint,
    MergedLegacyRow,
    OutboxEntry,
    OutboxStatus,
    QuarantinedRow,
)
from ..v1.entities import BY_NAME, PULLED
from ..v1.gateway import marks, v1_fetch, v1_fetch_dicts
from .flags import sync_flags

PULL_LOCK = "legacy_sync:pull_lock"
PULL_LOCK_S = 120  # a pull killed mid-way frees the lock after this
LOOKBACK = 1_000
OPEN_SESSION_DAYS = 7
PULL_BATCH = 2_000


KILL_SWITCH_ON = "kill_switch_on"
DUAL_WRITE_OFF = "dual_write_off"


@dataclass
class PullReport:
    pulled: dict = field(default_factory=dict)  # entity → rows migrated
    quarantined: dict = field(default_factory=dict)
    completions: int = 0
    profiles: int = 0
    skipped: str = ""  # why nothing was pulled: KILL_SWITCH_ON or DUAL_WRITE_OFF
    # Rows whose learners' states are still to be caught up (``catch_up=False``: the caller's)
    released: list = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.pulled.values())


@dataclass
class PullWindow:
    """What one long-running puller's earlier pulls handled in each entity's lookback window:
    entity → integer keys. Only valid for pulls made with it, so a puller starts a new one
    after an error (a key is recorded once its rows were migrated or found known)."""

    seen: dict[str, set[int]] = field(default_factory=dict)


def legacy_pull_locked(
    *, window: PullWindow | None = None, catch_up: bool = True
) -> PullReport | None:
    """``legacy_pull_once`` unless another pull is running (then None): the beat's task, the
    listener and any other caller share this lock."""
    if not cache.add(PULL_LOCK, 1, timeout=PULL_LOCK_S):
        return None
    try:
        return legacy_pull_once(window=window, catch_up=catch_up)
    finally:
        cache.delete(PULL_LOCK)


def legacy_pull_once(
    *, entities: list[str] | None = None, window: PullWindow | None = None, catch_up: bool = True
) -> PullReport:
    """Skipped unless v1 is live (dual write on) and the kill switch is off. With ``catch_up``
    False the learner states the pulled rows touch are left to the caller (``report.released``
    for ``learner_states_catch_up``): the listener replays them beside its next pull."""
    report = PullReport()
    flags = sync_flags()
    if flags.kill_switch:
        report.skipped = KILL_SWITCH_ON
        return report
    if not flags.dual_write:
        report.skipped = DUAL_WRITE_OFF
        return report
    built = entities_build()
    released: list[str] = []
    for name in entities or list(PULLED):
        migrated, held = entity_pull(built[name], released, window=window)
        if migrated:
            report.pulled[name] = migrated
        if held:
            report.quarantined[name] = held
    report.completions = session_completions_pull()
    report.profiles = profile_changes_pull()
    if released and catch_up:
        learner_states_catch_up(released, rollups=False)  # rows_migrate added them
    elif released:
        report.released = released
    return report


def entity_pull(
    entity: Entity, released: list[str], *, window: PullWindow | None = None
) -> tuple[int, int]:
    """Pull ``entity``'s rows after its checkpoint (less the lookback); (migrated, held)."""
    checkpoint, _ = BackfillCheckpoint.objects.get_or_create(entity=entity.name, range_start="")
    last = checkpoint.last_key
    after = last
    if last and not entity.key_is_text:
        after = str(int(last) - LOOKBACK) if int(last) > LOOKBACK else ""
    migrated = held = 0
    windowed = window is not None and not entity.key_is_text
    seen = window.seen.get(entity.name) if windowed else None
    if seen is not None and last:
        # The lookback as keys only; rows just for keys this puller has not met (a v1
        # transaction that committed late, or rows of a pull that failed).
        keys = _keys_between(entity, after, last)
        if unmet := [key for key in keys if key not in seen]:
            rows = _rows_by_key(entity, unmet)
            migrated, held, _ = _rows_take(entity, rows, released)
        seen = set(keys)
        after = last
    elif windowed:
        seen = set()
    for rows in entity.pages(after=after, until=None, size=PULL_BATCH):
        page_migrated, page_held, fresh = _rows_take(entity, rows, released)
        migrated, held = migrated + page_migrated, held + page_held
        newest = entity.key_of(rows[-1])
        if _key_after(entity, newest, last):
            BackfillCheckpoint.objects.filter(pk=checkpoint.pk).update(
                last_key=newest, rows_seen=F("rows_seen") + fresh
            )
            last = newest
        if seen is not None:
            seen.update(row[entity.key_column] for row in rows)
    if seen is not None:
        low = int(last) - LOOKBACK if last else 0
        window.seen[entity.name] = {key for key in seen if key > low}
    return migrated, held


def _rows_take(entity: Entity, rows: list[dict], released: list[str]) -> tuple[int, int, int]:
    """Migrate the rows v2 does not know; (migrated, held, fresh)."""
    fresh = rows_unknown(entity.name, rows, entity)
    if not fresh:
        return 0, 0, 0
    outcome = rows_migrate(entity, fresh)
    if entity.name in ("attempts", "users"):
        released += [f"{entity.name}:{k}" for k in outcome.migrated_keys]
    return len(outcome.migrated_keys), len(outcome.rejections), len(fresh)


def _keys_between(entity: Entity, after: str, last: str) -> list[int]:
    column = entity.key_column
    sql = f"SELECT {column} FROM {entity.table} WHERE {column} > %s AND {column} <= %s"  # noqa: S608
    return [key for (key,) in v1_fetch(sql, [int(after or 0), int(last)])]


def _rows_by_key(entity: Entity, keys: list[int]) -> list[dict]:
    select = entity.select or f"SELECT * FROM {entity.table}"  # noqa: S608 - fixed names
    column = f"{entity.table}.{entity.key_column}"
    rows = []
    for start in range(0, len(keys), PULL_BATCH):
        chunk = keys[start : start + PULL_BATCH]
        rows += v1_fetch_dicts(
            f"{select} WHERE {column} IN ({marks(len(chunk))}) ORDER BY {column}", chunk
        )
    return rows


def _key_after(entity: Entity, key: str, last: str) -> bool:
    if not last:
        return True
    return key > last if entity.key_is_text else int(key) > int(last)


def rows_unknown(name: str, rows: list[dict], entity: Entity) -> list[dict]:
    """The rows v2 holds in no form: not migrated, not pushed from v2, not quarantined, not
    merged into another row."""
    keys = [entity.key_of(row) for row in rows]
    known = set(
        BY_NAME[name]  # both origins: the (origin, legacy_key) index serves the lookup
        .model.objects.filter(origin__in=[Origin.LEGACY, Origin.V2], legacy_key__in=keys)
        .values_list("legacy_key", flat=True)
    )
    known |= set(
        QuarantinedRow.objects.filter(entity=name, legacy_key__in=keys).values_list(
            "legacy_key", flat=True
        )
    )
    known |= set(
        MergedLegacyRow.objects.filter(entity=name, legacy_key__in=keys).values_list(
            "legacy_key", flat=True
        )
    )
    return [row for row, key in zip(rows, keys, strict=True) if key not in known]


def rows_migrate(entity: Entity, rows: list[dict]) -> BatchOutcome:
    """Migrate a batch in one transaction; on an IntegrityError, row by row. Pulled attempts
    are added to their learners' rollups in that transaction (so the catch-up after the pull
    need not rebuild them from each learner's whole history)."""
    try:
        with transaction.atomic():
            present = _attempts_present(entity, rows)
            outcome = entity.migrate(rows)
            _outcome_store(entity, outcome, present)
        return outcome
    except IntegrityError:
        pass
    total = BatchOutcome()
    for row in rows:
        key = entity.key_of(row)
        try:
            with transaction.atomic():
                present = _attempts_present(entity, [row])
                outcome = entity.migrate([row])
                _outcome_store(entity, outcome, present)
        except IntegrityError as exc:
            outcome = BatchOutcome(
                rejections=[Rejection(key, "integrity_error", str(exc)[:500], jsonable(row))]
            )
            with transaction.atomic():
                quarantine_store(entity.name, outcome.rejections)
        total.migrated_keys += outcome.migrated_keys
        total.rejections += outcome.rejections
    return total


def _attempts_present(entity: Entity, rows: list[dict]) -> set[str]:
    """The attempts of ``rows`` v2 already holds: migrate reports them as migrated again, and
    they must not be counted twice (another puller, such as a session start's catch-up, may
    have written them since rows_unknown looked)."""
    if entity.name != "attempts":
        return set()
    return set(
        Attempt.objects.filter(
            origin=Origin.LEGACY, legacy_key__in=[entity.key_of(row) for row in rows]
        ).values_list("legacy_key", flat=True)
    )


def _outcome_store(entity: Entity, outcome: BatchOutcome, present: set[str] = frozenset()) -> None:
    quarantine_store(entity.name, outcome.rejections)
    quarantine_release(entity.name, outcome.migrated_keys)
    if entity.name == "attempts":  # the transaction's last writes, as rollups_add asks
        _rollups_add([key for key in outcome.migrated_keys if key not in present])


def _rollups_add(keys: list[str]) -> None:
    """Add just-migrated attempts to their learners' rollups: three statements for the page,
    whatever its learners (their shared locks in the order a rebuild takes its own)."""
    by_learner: dict = {}
    for attempt in Attempt.objects.filter(
        origin=Origin.LEGACY, legacy_key__in=keys, archived_in__isnull=True
    ).select_related("learner"):
        by_learner.setdefault(attempt.learner_id, (attempt.learner, []))[1].append(attempt)
    rollups_add_many(by_learner.values())


def session_completions_pull() -> int:
    """v1 sessions completed since they were pulled: v2's copies (and their per-chapter
    splits) get the completion. Only sessions started in the last OPEN_SESSION_DAYS are
    watched (older open ones are abandoned; should v1 still complete one, the nightly
    reconciliation finds it). A session completed on both sides keeps its own side's value
    (the outbox logs such conflicts when v2 pushes)."""
    since = timezone.now() - timedelta(days=OPEN_SESSION_DAYS)
    open_sessions = list(
        StudySession.objects.filter(origin=Origin.LEGACY, completed_at=None, started_at__gte=since)
        .exclude(legacy_key__contains="@")
        .values_list("legacy_key", flat=True)
    )
    done = 0
    for start in range(0, len(open_sessions), 5_000):
        chunk = [int(k) for k in open_sessions[start : start + 5_000]]
        completed = v1_fetch(
            f"SELECT id, completed_at FROM sessions WHERE id IN ({marks(len(chunk))}) "  # noqa: S608
            "AND completed_at IS NOT NULL",
            chunk,
        )
        for key, completed_at in completed:
            completed_at = as_utc(completed_at)
            # A completion before the start is refused as the backfill refuses it; the
            # reconciliation reports the session's difference.
            still_open = StudySession.objects.filter(
                origin=Origin.LEGACY, completed_at=None, started_at__lte=completed_at
            )
            done += still_open.filter(legacy_key=str(key)).update(completed_at=completed_at)
            still_open.filter(legacy_key__startswith=f"{key}@").update(completed_at=completed_at)
    return done


OPEN_SESSION_CATCH_UP_HOURS = 12


def learner_v1_session_catch_up(learner) -> set:
    """Read-after-write for a learner moving from v1 to v2 mid-session (the seed's
    ``generate_adaptive_lesson``): their open v1 sessions and those sessions' attempts are
    pulled now, not at the next beat, and the concepts practised there are returned so the
    next items leave them out. v1 being unreachable costs the learner nothing: no exclusion.
    """
    flags = sync_flags()
    v1_user = learner.legacy_key
    if not (v1_user and v1_user.isdigit()) or flags.kill_switch or not flags.dual_write:
        return set()
    since = (timezone.now() - timedelta(hours=OPEN_SESSION_CATCH_UP_HOURS)).replace(tzinfo=None)
    built = entities_build()
    sessions, attempts = built["sessions"], built["attempts"]
    try:
        open_rows = v1_fetch_dicts(
            "SELECT * FROM sessions WHERE user_id = %s AND completed_at IS NULL "
            "AND started_at >= %s ORDER BY id",
            [int(v1_user), since],
        )
        if not open_rows:
            return set()
        ids = [row["id"] for row in open_rows]
        attempt_rows = v1_fetch_dicts(
            f"{attempts.select} WHERE attempts.session_id IN ({marks(len(ids))}) "
            "ORDER BY attempts.id",
            ids,
        )
    except DatabaseError:
        return set()
    released: list[str] = []
    for entity, rows in ((sessions, open_rows), (attempts, attempt_rows)):
        fresh = rows_unknown(entity.name, rows, entity)
        if fresh:
            released += [f"{entity.name}:{k}" for k in rows_migrate(entity, fresh).migrated_keys]
    if any(item.startswith("attempts:") for item in released):
        learner_states_catch_up(released, rollups=False)  # rows_migrate added them
    keys = [str(row["id"]) for row in attempt_rows]
    return set(
        Attempt.objects.filter(origin=Origin.LEGACY, legacy_key__in=keys)
        .values_list("atom__live_concepts", flat=True)
        .distinct()
    ) - {None}


def learner_v1_open_session_concepts(learner) -> set:
    """The concepts of the learner's open v1 sessions (last OPEN_SESSION_CATCH_UP_HOURS), as
    pulled into v2 so far, for next items to leave out. Reads only: the pull and the catch-up
    at session start bring the rows in."""
    flags = sync_flags()
    if not (learner.legacy_key or "").isdigit() or flags.kill_switch or not flags.dual_write:
        return set()
    since = timezone.now() - timedelta(hours=OPEN_SESSION_CATCH_UP_HOURS)
    open_sessions = StudySession.objects.filter(
        learner=learner, origin=Origin.LEGACY, completed_at__isnull=True, started_at__gte=since
    )
    return set(
        Attempt.objects.filter(learner=learner, origin=Origin.LEGACY, session__in=open_sessions)
        .values_list("atom__live_concepts", flat=True)
        .distinct()
    ) - {None}


PROFILE_PULL_EVERY_S = 30
PROFILE_PULL_KEY = "legacy_sync:profile_pull_at"


def profile_changes_pull(*, force: bool = False) -> int:
    """v1 edits of migrated learners' profiles (display name, time zone) and of migrated
    bits (text, translation, difficulty), which v1 changes in place: the small tables are
    compared whole, every PROFILE_PULL_EVERY_S. v1 owns these rows, so its value is taken —
    except for a learner with a v2 edit still in the outbox (it is on its way to v1; taking
    v1's older value now would undo it). A v1 time zone that is not IANA is left out, as the
    backfill leaves it out. Returns how many rows changed."""
    if not force and not cache.add(PROFILE_PULL_KEY, 1, timeout=PROFILE_PULL_EVERY_S):
        return 0
    v1_users = {
        str(k): (name or "", tz or "UTC")
        for k, name, tz in v1_fetch("SELECT id, display_name, timezone FROM users")
    }
    v1_bits = {
        str(k): (t, tr or "", d or 3)
        for k, t, tr, d in v1_fetch("SELECT id, text, translation, difficulty FROM bits")
    }
    unsent = set(
        OutboxEntry.objects.filter(entity="users", status=OutboxStatus.PENDING).values_list(
            "v2_id", flat=True
        )
    )
    changed = 0
    for pk, key, name, tz in User.objects.filter(origin=Origin.LEGACY).values_list(
        "pk", "legacy_key", "display_name", "timezone"
    ):
        v1_name, v1_tz = v1_users.get(key, (name, tz))
        v1_name = v1_name[:150]
        if (v1_name, v1_tz) != (name, tz) and str(pk) not in unsent:
            fields = {"display_name": v1_name}
            if valid_timezone(v1_tz):
                fields["timezone"] = v1_tz
            changed += User.objects.filter(pk=pk).update(**fields)
    for pk, key, text, translation, difficulty in Concept.objects.filter(
        origin=Origin.LEGACY
    ).values_list("pk", "legacy_key", "text", "translation", "difficulty"):
        v1_text, v1_translation, v1_difficulty = v1_bits.get(key, (text, translation, difficulty))
        if (v1_text, v1_translation, v1_difficulty) != (text, translation, difficulty):
            try:
                with transaction.atomic():
                    changed += Concept.objects.filter(pk=pk).update(
                        text=v1_text[:300], translation=v1_translation[:300],
                        difficulty=v1_difficulty if 1 <= v1_difficulty <= 5 else difficulty,
                    )  # fmt: skip
            except IntegrityError:
                pass  # another concept of the course has that text: reconciliation reports it
    return changed
