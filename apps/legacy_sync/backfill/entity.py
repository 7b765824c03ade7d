"""What every backfilled entity provides, and the outcome of migrating one batch of it."""

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..v1.entities import BY_NAME
from ..v1.gateway import v1_fetch_dicts, v1_fetch_one


@dataclass(frozen=True)
class Rejection:
    """A legacy row that goes to quarantine: why, with the row itself and what it waits for."""

    key: str
    reason: str
    detail: str
    raw: dict
    blocked_by: str = ""


@dataclass
class BatchOutcome:
    migrated_keys: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def reject(self, key: str, problem: tuple, raw: dict) -> None:
        """``problem`` is (reason, detail) or (reason, detail, blocked_by)."""
        self.rejections.append(Rejection(key, problem[0], problem[1], raw, *problem[2:]))


class Entity(ABC):
    """One legacy table (or JSON file family) and how its rows become v2 rows.

    ``pages`` reads legacy rows in key order after a checkpoint; ``migrate`` maps and writes a
    batch (inside the runner's transaction) and says which keys migrated and which were
    rejected. ``migrate`` must accept a quarantined row's ``raw`` as well as a fresh row, and
    be idempotent: a row already migrated is reported as migrated again, never duplicated.
    """

    name: str = ""
    # v1's table and key: from the registry (v1/entities.py) for an entity with a table
    table: str = ""
    key_column: str = "id"
    key_is_text: bool = False
    select: str = ""  # the SELECT ... FROM ... part; defaults to every column of ``table``
    depends_on: tuple[str, ...] = ()
    parallel: bool = True  # may --async split it into key ranges worked on at once?
    # v2 tables this stage loads in bulk: their secondary indexes are built after an initial
    # load (indexes.py)
    bulk_models: tuple = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        v1 = BY_NAME.get(cls.__dict__.get("name", ""))
        if v1 is not None and v1.table:
            cls.table, cls.key_column, cls.key_is_text = v1.table, v1.key, v1.key_is_text

    def key_of(self, row: dict) -> str:
        return str(row[self.key_column])

    def legacy_count(self) -> int:
        return v1_fetch_one(f"SELECT COUNT(*) FROM {self.table}")[0]  # noqa: S608 - fixed names

    @abstractmethod
    def migrated_count(self) -> int:
        """How many legacy rows of this entity have their v2 counterpart."""

    @abstractmethod
    def migrate(self, rows: list[dict]) -> BatchOutcome:
        """Map and write one batch; report migrated keys and rejections."""

    def _key(self, text: str):
        return text if self.key_is_text else int(text)

    def pages(self, *, after: str, until: str | None, size: int) -> Iterable[list[dict]]:
        """Keyset pages of legacy rows with keys in (after, until]; never OFFSET."""
        column = f"{self.table}.{self.key_column}"
        select = self.select or f"SELECT * FROM {self.table}"  # noqa: S608 - fixed names
        cursor_key = self._key(after) if after else None
        while True:
            where, params = [], []
            if cursor_key is not None:
                where.append(f"{column} > %s")
                params.append(cursor_key)
            if until is not None:
                where.append(f"{column} <= %s")
                params.append(self._key(until))
            condition = f"WHERE {' AND '.join(where)}" if where else ""
            sql = f"{select} {condition} ORDER BY {column} LIMIT %s"
            rows = v1_fetch_dicts(sql, [*params, size])
            if not rows:
                return
            yield rows
            cursor_key = rows[-1][self.key_column]
            if len(rows) < size:
                return

    def key_ranges(self, parts: int) -> list[tuple[str, str | None]]:
        """Split the key space into up to ``parts`` (after, until] ranges, for --async.

        Integer keys split evenly between the smallest and largest key; entities that must
        run in one ordered pass, and text keys, stay one range.
        """
        if parts <= 1 or self.key_is_text or not self.parallel:
            return [("", None)]
        column = self.key_column
        low, high = v1_fetch_one(f"SELECT MIN({column}), MAX({column}) FROM {self.table}")  # noqa: S608
        if low is None or high - low < parts:
            return [("", None)]
        step = (high - low + 1) // parts
        bounds = [str(low - 1 + step * i) for i in range(1, parts)]
        return list(zip(["", *bounds], [*bounds, None], strict=True))
