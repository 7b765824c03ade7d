"""v1's JSON progress files: ``user_data/attempts_{user}.json`` and ``user_data/streaks.json``.

Deduplication rule for JSON attempts: v1 wrote some answers both to its database and to the
JSON file. A JSON entry is the same answer as an attempt already migrated when it has the
same learner, the same bit, the same verdict, and a timestamp within one second (the file
kept ISO text, the database microseconds). Such an entry is folded into that attempt and
recorded as a MergedLegacyRow; every other entry becomes an attempt of its own, with the
legacy key ``json:{user}:{index}``.
"""

import json
from abc import abstractmethod
from datetime import timedelta
from pathlib import Path

from django.db import connection

from apps.core.models import Origin
from apps.learning.models import Attempt

from ..models import MergedLegacyRow, StreakComparison
from .entity import BatchOutcome, Entity
from .keys import as_date, as_utc, legacy_uuid, parse_user_key
from .parents import ParentCheck, parent_problem
from .practice import QUALITY_RIGHT, QUALITY_WRONG, BitIndex, attempt_rows_insert
from .records import streak_comparisons_store

DUPLICATE_WINDOW = timedelta(seconds=1)
DEDUPE_RULE = "same_learner_bit_verdict_within_1s"
JSON_PREFIX = "json:"


def user_data_folder(json_dir: str | Path) -> Path | None:
    """The folder holding v1's JSON files: ``json_dir`` itself when they are in it (the
    ``user_data`` folder was given), else ``json_dir/user_data``; None when it has neither."""
    folder = Path(json_dir)
    if (folder / "streaks.json").is_file() or next(folder.glob("attempts_*.json"), None):
        return folder
    if (folder / "user_data").is_dir():
        return folder / "user_data"
    return None


class _JsonEntity(Entity):
    """Rows come from v1's JSON files (``user_data_folder(json_dir)``); keys sort as strings."""

    key_is_text = True
    parallel = False

    def __init__(self, json_dir: str | Path | None = None):
        self.folder = user_data_folder(json_dir) if json_dir else None
        self.users = ParentCheck("users")

    @abstractmethod
    def rows(self) -> list[dict]:
        """Every row of the file family, sorted by key."""

    def legacy_count(self) -> int:
        return len(self.rows()) if self.folder else 0

    def pages(self, *, after: str, until: str | None, size: int):
        if not self.folder:
            return
        rows = [r for r in self.rows() if r["key"] > after and (until is None or r["key"] <= until)]
        for start in range(0, len(rows), size):
            yield rows[start : start + size]

    def key_of(self, row: dict) -> str:
        return row["key"]


def _unreadable(key: str, path: Path, reason: str, detail: str) -> dict:
    return {"key": key, "problem": (reason, detail), "file": path.name,
            "content": path.read_text(errors="replace")[:20_000]}  # fmt: skip


class JsonAttempts(_JsonEntity):
    name = "json_attempts"
    depends_on = ("users", "bits", "attempts")

    def __init__(self, json_dir=None):
        super().__init__(json_dir)
        self.index = BitIndex()
        self.months_ready: set = set()

    def rows(self) -> list[dict]:
        """Every entry of every attempts file, keyed ``{user:08d}:{index:06d}`` so keys sort
        in file order; a file that cannot be read is one row of its own."""
        rows = []
        for path in sorted(self.folder.glob("attempts_*.json")):
            user = parse_user_key(path.stem.removeprefix("attempts_"))
            if user is None:
                rows.append(_unreadable(f"~{path.stem}", path, "invalid_user_key", path.name))
                continue
            try:
                entries = json.loads(path.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                rows.append(_unreadable(f"{user:08d}:file", path, "malformed_json_file", str(exc)))
                continue
            if not isinstance(entries, list):
                rows.append(_unreadable(f"{user:08d}:file", path, "malformed_json_file", "no list"))
                continue
            rows += [
                {"key": f"{user:08d}:{i:06d}", "user_id": user, "entry": entry}
                for i, entry in enumerate(entries)
            ]
        return sorted(rows, key=lambda r: r["key"])

    def migrated_count(self) -> int:
        created = Attempt.objects.filter(
            origin=Origin.LEGACY, legacy_key__startswith=JSON_PREFIX
        ).count()
        return created + MergedLegacyRow.objects.filter(entity=self.name).count()

    def migrate(self, rows: list[dict]) -> BatchOutcome:
        outcome = BatchOutcome()
        user_problems = self.users.problems(r.get("user_id") for r in rows)
        keys = [r["key"] for r in rows]
        done = set(
            Attempt.objects.filter(
                origin=Origin.LEGACY, legacy_key__in=[JSON_PREFIX + k for k in keys]
            ).values_list("legacy_key", flat=True)
        ) | {
            JSON_PREFIX + k
            for k in MergedLegacyRow.objects.filter(entity=self.name, legacy_key__in=keys)
            .values_list("legacy_key", flat=True)
        }  # fmt: skip
        batch: dict[tuple, str] = {}
        new, merged = [], []
        problems = {
            row["key"]: row.get("problem") or self._problem(row, user_problems)
            for row in rows
            if JSON_PREFIX + row["key"] not in done
        }
        twins = self._twins(
            [row for row in rows if row["key"] in problems and not problems[row["key"]]]
        )
        for row in rows:
            key = row["key"]
            if JSON_PREFIX + key in done:
                outcome.migrated_keys.append(key)
                continue
            problem = problems[key]
            if problem:
                outcome.reject(key, problem, row)
                continue
            entry = row["entry"]
            learner = legacy_uuid("users", row["user_id"])
            _, _, atom_id, revision_id = self.index.get(entry["exercise_id"])
            answered, correct = as_utc(entry["timestamp"]), entry["is_correct"]
            same = (learner, atom_id, correct, answered.replace(microsecond=0))
            twin = batch.get(same) or twins.get(key)
            if twin:
                merged.append(MergedLegacyRow(entity=self.name, legacy_key=key,
                                              merged_into=twin, rule=DEDUPE_RULE))  # fmt: skip
                outcome.migrated_keys.append(key)
                continue
            batch[same] = JSON_PREFIX + key
            attempt_id = legacy_uuid(self.name, key)
            new.append(
                {
                    "id": attempt_id,
                    "learner_id": learner,
                    "atom_id": atom_id,
                    "revision_id": revision_id,
                    "client_attempt_id": attempt_id,
                    "response": {"user_answer": str(entry.get("user_answer") or "")},
                    "correct": correct,
                    "score": 1.0 if correct else 0.0,
                    "quality": QUALITY_RIGHT if correct else QUALITY_WRONG,
                    "answered_at": answered,
                    "origin": Origin.LEGACY,
                    "legacy_key": JSON_PREFIX + key,
                }
            )
            outcome.migrated_keys.append(key)
        attempt_rows_insert(new, self.months_ready)
        MergedLegacyRow.objects.bulk_create(merged, ignore_conflicts=True)
        return outcome

    def _problem(self, row: dict, user_problems: dict) -> tuple | None:
        entry = row["entry"]
        problem = parent_problem(row, "user_id", "user", user_problems)
        if problem:
            return problem
        if not isinstance(entry, dict):
            return "invalid_json_attempt", "The entry is not an object."
        if not isinstance(entry.get("is_correct"), bool):
            return "missing_verdict", "is_correct is not true or false."
        bit = entry.get("exercise_id")
        if not isinstance(bit, int) or self.index.get(bit) is None:
            return "unknown_bit", f"exercise_id {bit!r} is not a migrated bit.", f"bits:{bit}"
        try:
            if as_utc(entry.get("timestamp")) is None:
                return "missing_timestamp", "timestamp is empty."
        except ValueError as exc:
            return "invalid_timestamp", str(exc)
        return None

    def _twins(self, rows: list[dict]) -> dict[str, str]:
        """{row key: legacy key of the earliest database attempt it duplicates}, for well-formed
        rows not migrated yet: same learner, bit and verdict within DUPLICATE_WINDOW."""
        probes = []
        for row in rows:
            entry = row["entry"]
            atom_id = self.index.get(entry["exercise_id"])[2]
            learner = legacy_uuid("users", row["user_id"])
            probes.append(
                (row["key"], learner, atom_id, entry["is_correct"], as_utc(entry["timestamp"]))
            )
        if not probes:
            return {}
        if connection.vendor != "postgresql":
            found = {key: self._twin(*probe) for key, *probe in probes}
            return {key: twin for key, twin in found.items() if twin}
        # One query for the batch (one per entry was most of the stage's time).
        keys, learners, atoms, verdicts, times = (
            list(column) for column in zip(*probes, strict=True)
        )
        sql = f"""
            SELECT probe.key, twin.legacy_key
            FROM unnest(%s::text[], %s::uuid[], %s::uuid[], %s::boolean[], %s::timestamptz[])
                 AS probe(key, learner, atom, correct, answered)
            CROSS JOIN LATERAL (
                SELECT legacy_key FROM {Attempt._meta.db_table} AS attempt
                WHERE attempt.learner_id = probe.learner AND attempt.atom_id = probe.atom
                  AND attempt.correct = probe.correct
                  AND attempt.answered_at BETWEEN probe.answered - %s AND probe.answered + %s
                ORDER BY attempt.answered_at LIMIT 1
            ) AS twin
        """  # noqa: S608 - the table name comes from the model
        with connection.cursor() as cursor:
            cursor.execute(
                sql, [keys, learners, atoms, verdicts, times, DUPLICATE_WINDOW, DUPLICATE_WINDOW]
            )
            return dict(cursor.fetchall())

    @staticmethod
    def _twin(learner, atom_id, correct, answered) -> str | None:
        return (
            Attempt.objects.filter(
                learner_id=learner,
                atom_id=atom_id,
                correct=correct,
                answered_at__range=(answered - DUPLICATE_WINDOW, answered + DUPLICATE_WINDOW),
            )
            .order_by("answered_at")
            .values_list("legacy_key", flat=True)
            .first()
        )


class JsonStreaks(_JsonEntity):
    """streaks.json is keyed ``user_7`` or ``7``; each entry is compared, like a profile."""

    name = "json_streaks"
    depends_on = ("users", "attempts", "json_attempts")

    def rows(self) -> list[dict]:
        path = self.folder / "streaks.json"
        if not path.exists():
            return []
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return [_unreadable("~file", path, "malformed_json_file", str(exc))]
        if not isinstance(data, dict):
            return [_unreadable("~file", path, "malformed_json_file", "not an object")]
        return sorted(
            ({"key": str(k), "entry": v} for k, v in data.items()), key=lambda r: r["key"]
        )

    def migrated_count(self) -> int:
        return StreakComparison.objects.filter(entity=self.name).count()

    def migrate(self, rows: list[dict]) -> BatchOutcome:
        outcome = BatchOutcome()
        users = {r["key"]: parse_user_key(r["key"]) for r in rows}
        user_problems = self.users.problems(u for u in users.values() if u is not None)
        valid = []
        for row in rows:
            key, uid, entry = row["key"], users[row["key"]], row.get("entry")
            problem = row.get("problem")
            if not problem and uid is None:
                problem = ("invalid_user_key", f"{key!r} names no user.")
            if not problem and uid in user_problems:
                reason, blocked = user_problems[uid]
                problem = (reason, f"user {uid}.", blocked)
            if not problem and not isinstance(entry, dict):
                problem = ("invalid_streak_entry", "The entry is not an object.")
            as_of = None
            if not problem:
                try:
                    dates = [as_date(d) for d in entry.get("practice_dates") or []]
                    as_of = max(dates) if dates else None
                except (ValueError, TypeError) as exc:
                    problem = ("invalid_date", str(exc))
            if problem:
                outcome.reject(key, problem, row)
                continue
            valid.append(
                (key, uid, entry.get("current_streak"), entry.get("longest_streak"), as_of)
            )
            outcome.migrated_keys.append(key)
        streak_comparisons_store(self.name, valid)
        return outcome
