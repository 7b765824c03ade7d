"""A realistic, deterministic v1 database for tests, demos and benchmarks.

Rows are generated with a seeded numpy RNG and written in large ``executemany`` batches, so
the seed's scale (20k users, 450k sessions, 3.2M attempts, 500 bits) takes minutes. ``dirty``
mixes in every kind of bad row the real v1 data has; ``DIRTY_KINDS`` lists them, and the
returned report says how many of each were written, so tests can check none is lost.

Like v1's serial keys, session and attempt ids follow time: a session's id follows its start,
and an attempt's its answer, across the sessions running at once.
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from .entities import POINT_REASONS, SERIAL_TABLES
from .gateway import marks, v1_atomic, v1_cursor, v1_is_postgres
from .schema import legacy_schema_create

APPS = ("spanish", "german")
TIMEZONES = ("Europe/London", "Europe/Berlin", "America/New_York", "Asia/Tokyo", None)
MISTAKE_CODES = ("GENDER_AGREEMENT", "SPELLING", "WORD_ORDER", "VERB_TENSE")
EPOCH = datetime(2025, 5, 1)  # 18 months of history before the fixture's "now"
HISTORY_DAYS = 540
BATCH = 10_000
ATTEMPT_CHUNK = 100_000

DIRTY_KINDS = (
    "duplicate_email",
    "case_variant_email",
    "junk_timezone",
    "null_timestamp",
    "future_timestamp",
    "completed_before_started",
    "attempt_unknown_bit",
    "attempt_unknown_user",
    "session_spans_chapters",
    "malformed_json_back",
    "empty_front",
    "user_key_prefixed",
    "json_attempt_duplicates_db",
)


@dataclass
class FixtureReport:
    counts: dict = field(default_factory=dict)
    dirty: Counter = field(default_factory=Counter)
    json_dir: str = ""


def legacy_fixture_build(
    *,
    users: int,
    sessions: int,
    attempts: int,
    bits: int = 500,
    seed: int = 1,
    dirty: bool = False,
    json_dir: Path | None = None,
    alias: str = "legacy",
    progress=None,
) -> FixtureReport:
    """Replace the legacy database's tables with generated v1 data (and JSON files)."""
    rng = np.random.default_rng(seed)
    report = FixtureReport()
    legacy_schema_create(alias=alias, replace=True)

    def insert(table: str, columns: tuple, rows: list) -> None:
        _rows_insert(alias, report, progress, table, columns, rows)

    with v1_atomic(alias):
        # Users: clean emails, a few duplicate and case-variant ones when dirty.
        user_rows = _user_rows(rng, range(1, users + 1))
        if dirty and users >= 10:
            user_rows[1] = (2, "user1@example.com", "Dup", "Europe/London", _moment(1))
            user_rows[2] = (3, "USER1@Example.com", "Case", "Europe/London", _moment(1))
            user_rows[3] = (4, "user4@example.com", "Junk tz", "Mars/Base", _moment(1))
            report.dirty.update(["duplicate_email", "case_variant_email", "junk_timezone"])
        insert("users", USER_COLUMNS, user_rows)

        # Curriculum: chapters per app, bits per chapter, flashcards in three back formats.
        chapters_per_app = max(2, bits // 50)
        chapter_rows = [
            (cid, APPS[(cid - 1) // chapters_per_app % len(APPS)], f"Chapter {cid}", cid)
            for cid in range(1, chapters_per_app * len(APPS) + 1)
        ]
        insert("chapters", ("id", "app_name", "title", "position"), chapter_rows)
        chapter_of_bit = {bid: 1 + (bid - 1) % len(chapter_rows) for bid in range(1, bits + 1)}
        bit_rows = [
            (
                bid,
                chapter_of_bit[bid],
                f"word{bid}",
                f"translation{bid}",
                int(rng.integers(1, 6)) if rng.random() > 0.1 else None,
            )
            for bid in range(1, bits + 1)
        ]
        insert("bits", ("id", "chapter_id", "text", "translation", "difficulty"), bit_rows)
        card_rows = []
        for cid, bid in enumerate(list(range(1, bits + 1)) * 2, start=1):
            if cid > int(bits * 1.2):
                break
            kind = cid % 3
            if kind == 0:
                back = f"translation{bid}"
            elif kind == 1:
                back = json.dumps(
                    {"options": [f"translation{bid}", "other", "wrong"], "correct_index": 0}
                )
            else:
                back = json.dumps({"blocks": ["a", "b", "c"], "correct_order": [0, 1, 2]})
            card_rows.append([cid, bid, f"What is word{bid}?", back, _moment(1)])
        if dirty and len(card_rows) > 3:
            card_rows[0][3] = '{"options": ["a", "b"'  # broken JSON
            card_rows[1][2] = ""
            report.dirty.update(["malformed_json_back", "empty_front"])
        insert(
            "flashcards",
            ("id", "bit_id", "front", "back", "created_at"),
            [tuple(r) for r in card_rows],
        )

        # Sessions: one chapter each, most completed.
        bits_of_chapter: dict = {}
        for bid, chapter in chapter_of_bit.items():
            bits_of_chapter.setdefault(chapter, []).append(bid)
        session_rows, s_start = _session_rows(
            rng, users=(1, users), chapters=len(chapter_rows), sessions=sessions, first_id=1,
            dirty=dirty,
        )  # fmt: skip
        if dirty and sessions >= 5:
            session_rows[0][3] = None
            session_rows[1][3] = datetime(2099, 1, 1)
            session_rows[2][4] = session_rows[2][3] - timedelta(hours=1)
            report.dirty.update(["null_timestamp", "future_timestamp", "completed_before_started"])
        insert("sessions", SESSION_COLUMNS, [tuple(r) for r in session_rows])

        # Attempts: inside a session, on a bit of the session's chapter. Generated and written
        # a chunk at a time, so memory stays flat however many are asked for.
        last_attempt = None
        chunks = _attempt_chunks(
            rng, session_rows=session_rows, s_start=s_start, bits_of_chapter=bits_of_chapter,
            attempts=attempts, first_id=1,
        )  # fmt: skip
        for number, chunk in enumerate(chunks):
            if dirty and number == 0 and attempts >= 10:
                chunk[0][3] = bits + 1000  # unknown bit
                chunk[1][2] = users + 1000  # unknown user
                own_chapter = session_rows[chunk[2][1] - 1][2]
                other_chapter = 1 + own_chapter % len(chapter_rows)  # never its own chapter
                chunk[2][3] = bits_of_chapter[other_chapter][0]
                report.dirty.update(
                    ["attempt_unknown_bit", "attempt_unknown_user", "session_spans_chapters"]
                )
            insert("attempts", ATTEMPT_COLUMNS, [tuple(r) for r in chunk])
            last_attempt = chunk[-1]

        # Review cards, mistakes, points, profiles, tasks.
        _learner_extras_insert(insert, range(1, users + 1), bits=bits, first_review_id=1)

    _sequences_catch_up(alias)
    if json_dir is not None:
        report.json_dir = str(json_dir)
        _write_json_files(Path(json_dir), rng, users, bits, last_attempt, dirty, report)
    return report


def legacy_fixture_extend(
    *,
    users: int,
    sessions: int,
    attempts: int,
    seed: int = 1,
    alias: str = "legacy",
    progress=None,
) -> FixtureReport:
    """Append clean v1 rows to a fixture already on ``alias``: ``users`` new learners (ids after
    the largest), their ``sessions`` and ``attempts`` over the same 18 months, and their review
    cards, mistakes, points, profiles and tasks, on the bits already there. Every new id is
    above the table's largest, as v1's serial keys would give: an incremental backfill (keyset
    checkpoints) takes exactly the new rows. The learners already there get nothing new, so
    their migrated history stays complete. JSON progress files are left as they are.

    Generated in blocks of about ATTEMPT_BLOCK attempts (users, sessions and attempts split in
    proportion), each block's ids following time, so memory stays flat however many are asked
    for. Deterministic for the same database and ``seed``."""
    rng = np.random.default_rng(seed)
    report = FixtureReport()

    def insert(table: str, columns: tuple, rows: list) -> None:
        _rows_insert(alias, report, progress, table, columns, rows)

    with v1_cursor(alias) as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM users")
        last_user = cursor.fetchone()[0]
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM sessions")
        last_session = cursor.fetchone()[0]
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM attempts")
        last_attempt = cursor.fetchone()[0]
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM review_cards")
        last_review = cursor.fetchone()[0]
        cursor.execute("SELECT COUNT(*) FROM chapters")
        chapters = cursor.fetchone()[0]
        cursor.execute("SELECT id, chapter_id FROM bits ORDER BY id")
        bit_chapters = cursor.fetchall()
    if not chapters or not bit_chapters:
        raise ValueError("No v1 fixture to extend: build one first (legacy_make_fixture).")
    if users < 1 or sessions < 1:
        raise ValueError("Extending needs at least one new user and one new session.")
    bits_of_chapter: dict = {}
    for bid, chapter in bit_chapters:
        bits_of_chapter.setdefault(chapter, []).append(bid)
    blocks = max(1, min(-(-attempts // ATTEMPT_BLOCK), users, sessions))  # each block ≥ 1 of each
    for block in range(blocks):
        share = [
            n * (block + 1) // blocks - n * block // blocks for n in (users, sessions, attempts)
        ]
        block_users, block_sessions, block_attempts = share
        first_user = last_user + 1
        with v1_atomic(alias):
            insert(
                "users", USER_COLUMNS, _user_rows(rng, range(first_user, first_user + block_users))
            )
            session_rows, s_start = _session_rows(
                rng, users=(first_user, first_user + block_users - 1), chapters=chapters,
                sessions=block_sessions, first_id=last_session + 1,
            )  # fmt: skip
            insert("sessions", SESSION_COLUMNS, [tuple(r) for r in session_rows])
            for chunk in _attempt_chunks(
                rng, session_rows=session_rows, s_start=s_start, bits_of_chapter=bits_of_chapter,
                attempts=block_attempts, first_id=last_attempt + 1,
            ):  # fmt: skip
                insert("attempts", ATTEMPT_COLUMNS, [tuple(r) for r in chunk])
            _learner_extras_insert(
                insert, range(first_user, first_user + block_users), bits=len(bit_chapters),
                first_review_id=last_review + 1,
            )  # fmt: skip
        last_user += block_users
        last_session += block_sessions
        last_attempt += block_attempts
        last_review += 3 * block_users
    _sequences_catch_up(alias)
    return report


USER_COLUMNS = ("id", "email", "display_name", "timezone", "created_at")
SESSION_COLUMNS = ("id", "user_id", "chapter_id", "started_at", "completed_at")
ATTEMPT_COLUMNS = ("id", "session_id", "user_id", "bit_id", "correct", "user_answer", "created_at")
ATTEMPT_BLOCK = 1_000_000  # legacy_fixture_extend's generation unit


def _moment(days) -> datetime:
    return EPOCH + timedelta(days=float(days))


def _rows_insert(alias, report, progress, table: str, columns: tuple, rows: list) -> None:
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks(len(columns))})"  # noqa: S608
    with v1_cursor(alias) as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[start : start + BATCH])
    report.counts[table] = report.counts.get(table, 0) + len(rows)
    if progress:
        progress(table, report.counts[table])


def _user_rows(rng, uids: range) -> list[tuple]:
    rows = []
    for uid in uids:
        tz = TIMEZONES[int(rng.integers(len(TIMEZONES)))]
        rows.append((uid, f"user{uid}@example.com", f"User {uid}", tz, _moment(rng.uniform(0, 60))))
    return rows


def _session_rows(
    rng, *, users: tuple[int, int], chapters: int, sessions: int, first_id: int, dirty=False
) -> tuple[list[list], np.ndarray]:
    """(rows as lists, each session's start in days): one chapter each, most completed, ids
    from ``first_id`` following the start; learners drawn from ``users`` (first, last)."""
    s_users = rng.integers(users[0], users[1] + 1, sessions)
    s_chapters = rng.integers(1, chapters + 1, sessions)
    s_start = np.sort(rng.uniform(0, HISTORY_DAYS, sessions))
    if dirty and sessions >= 6:
        # The three bad sessions below sit mid-history, away from the first attempts,
        # which carry dirty rows of their own (so their own fault is the one found).
        middle = [sessions // 2, sessions // 2 + 1, sessions // 2 + 2]
        s_start[[0, 1, 2, *middle]] = s_start[[*middle, 0, 1, 2]]
    s_done = rng.random(sessions) < 0.8
    rows = []
    for sid in range(sessions):
        started = _moment(s_start[sid])
        completed = started + timedelta(minutes=20) if s_done[sid] else None
        rows.append([first_id + sid, int(s_users[sid]), int(s_chapters[sid]), started, completed])
    return rows, s_start


def _attempt_chunks(rng, *, session_rows, s_start, bits_of_chapter, attempts: int, first_id: int):
    """Lists of ATTEMPT_CHUNK attempt rows (lists), ids from ``first_id`` following the answer
    time: each inside a session of ``session_rows``, on a bit of the session's chapter."""
    a_session = rng.integers(0, len(session_rows), attempts)
    a_correct = rng.random(attempts) < 0.72
    a_offset = rng.integers(0, 20, attempts)
    answered_order = np.argsort(s_start[a_session] + a_offset / (24 * 60), kind="stable")
    a_session, a_offset = a_session[answered_order], a_offset[answered_order]
    del answered_order
    for start in range(0, attempts, ATTEMPT_CHUNK):
        chunk = []
        for aid in range(start, min(attempts, start + ATTEMPT_CHUNK)):
            session = session_rows[a_session[aid]]
            chapter_bits = bits_of_chapter[session[2]]
            number = first_id - 1 + aid
            bit = chapter_bits[(number * 7919) % len(chapter_bits)]
            base = session[3] or _moment(s_start[a_session[aid]])
            answered = base + timedelta(minutes=int(a_offset[aid]))
            chunk.append(
                [number + 1, session[0], session[1], bit, bool(a_correct[aid]), f"answer{bit}",
                 answered]
            )  # fmt: skip
        yield chunk


def _learner_extras_insert(insert, uids: range, *, bits: int, first_review_id: int) -> None:
    """Each learner's three review cards, a mistake, points, a profile and a task."""
    review_rows, mistake_rows, point_rows, profile_rows, task_rows = [], [], [], [], []
    for uid in uids:
        for k in range(3):
            bid = 1 + (uid * 31 + k * 17) % bits
            review_rows.append(
                (
                    first_review_id + len(review_rows),
                    uid,
                    bid,
                    2.5,
                    6,
                    2,
                    _moment(HISTORY_DAYS + k),
                    _moment(HISTORY_DAYS - 6 + k),
                )
            )
        mistake_rows.append(
            (
                uid,
                uid,
                1 + uid % bits,
                MISTAKE_CODES[uid % len(MISTAKE_CODES)],
                f"mistake {uid}",
                _moment(uid % HISTORY_DAYS),
            )
        )
        point_rows.append(
            (uid, uid, tuple(POINT_REASONS)[uid % 3], 10 + uid % 20, _moment(uid % HISTORY_DAYS))
        )
        profile_rows.append((uid, uid % 7, uid % 30, (EPOCH + timedelta(days=HISTORY_DAYS)).date()))
        task_rows.append(
            (
                f"task-{uid:06d}",
                uid,
                f"Revise chapter {uid % 10}",
                APPS[uid % 2],
                _moment(HISTORY_DAYS + 3),
                uid % 3,
                "open",
                json.dumps({"source": "planner"}) if uid % 2 else None,
            )
        )
    insert(
        "review_cards",
        (
            "id",
            "user_id",
            "bit_id",
            "ease",
            "interval_days",
            "repetitions",
            "due_at",
            "last_reviewed_at",
        ),
        review_rows,
    )
    insert(
        "mistake_logs",
        ("id", "user_id", "bit_id", "template_code", "raw_text", "created_at"),
        mistake_rows,
    )
    insert("points", ("id", "user_id", "reason", "amount", "created_at"), point_rows)
    insert(
        "user_profiles",
        ("user_id", "current_streak", "longest_streak", "last_practice_date"),
        profile_rows,
    )
    insert(
        "tasks",
        ("id", "user_id", "title", "course", "due_at", "priority", "status", "signals"),
        task_rows,
    )


def _sequences_catch_up(alias: str) -> None:
    """The rows went in with explicit ids; move each id sequence past them, as v1's own
    inserts would have, so new v1 rows (and ids the outbox reserves) do not collide."""
    if not v1_is_postgres(alias):
        return
    with v1_cursor(alias) as cursor:
        for table in SERIAL_TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608 - fixed names
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)",
                [table],
            )


def _write_json_files(json_dir: Path, rng, users, bits, last_attempt, dirty, report) -> None:
    """v1's JSON progress files: attempts_{user}.json for a tenth of users, and streaks.json."""
    folder = json_dir / "user_data"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in [*folder.glob("attempts_*.json"), folder / "streaks.json"]:
        stale.unlink(missing_ok=True)  # files of an earlier fixture would name other users
    streaks = {}
    files = 0
    file_users = list(range(1, users + 1, 10))
    if dirty and last_attempt and last_attempt[2] not in file_users:
        file_users.append(last_attempt[2])  # the learner whose answer v1 also kept in JSON
    for uid in file_users:
        entries = [
            {
                "exercise_id": int(1 + (uid * 13 + k) % bits),
                "is_correct": bool(rng.random() < 0.7),
                "user_answer": f"json answer {k}",
                "timestamp": (EPOCH + timedelta(days=10 + k, hours=uid % 24)).isoformat() + "Z",
            }
            for k in range(5)
        ]
        if dirty and last_attempt and uid == last_attempt[2]:
            row = last_attempt  # the same answer v1 also stored in the database, in its user's file
            entries.append(
                {
                    "exercise_id": row[3],
                    "is_correct": row[4],
                    "user_answer": row[5],
                    "timestamp": row[6].isoformat() + "Z",
                }
            )
            report.dirty["json_attempt_duplicates_db"] += 1
        (folder / f"attempts_{uid}.json").write_text(json.dumps(entries))
        files += 1
        if uid % 10 != 1:
            continue  # streaks.json covers the sampled learners only
        key = f"user_{uid}" if (dirty and uid % 20 == 1) else str(uid)
        if key.startswith("user_"):
            report.dirty["user_key_prefixed"] += 1
        streaks[key] = {
            "current_streak": uid % 5,
            "longest_streak": uid % 9,
            "practice_dates": ["2026-10-01", "2026-10-02"],
        }
    (folder / "streaks.json").write_text(json.dumps(streaks))
    report.counts["json_attempt_files"] = files
    report.counts["json_streak_keys"] = len(streaks)
