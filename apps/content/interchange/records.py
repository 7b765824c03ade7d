"""Atom records: the portable dict that JSON, CSV and GIFT files carry, and their files.

A record names concepts by course slug and concept text (not database ids), so a file exported
here imports on another instance. JSON and CSV are lossless; GIFT carries five types.
"""

import csv
import io
import json
from dataclasses import dataclass

from ..services import ATOM_METADATA_FIELDS

CSV_COLUMNS = (
    "external_id",
    "title",
    "atom_type",
    "content",
    "grading_logic",
    "options",
    "concepts",
    "tags",
    *ATOM_METADATA_FIELDS,
)
_JSON_COLUMNS = ("content", "grading_logic", "options", "concepts")
_INT_FIELDS = ("difficulty", "estimated_time_s", "schema_version")
_FLOAT_FIELDS = ("element_interactivity", "irt_a", "irt_b", "irt_c")


@dataclass(frozen=True)
class ParsedRow:
    line: int
    record: dict | None
    error: str | None = None
    warnings: tuple[str, ...] = ()  # what the source had that atoms cannot keep


# --- JSON ------------------------------------------------------------------------------------
def records_to_json(records: list[dict]) -> str:
    return json.dumps({"format": "atoms/v1", "atoms": records}, indent=2, ensure_ascii=False)


def parse_json(text: str) -> list[ParsedRow]:
    """A file is ``{"atoms": [record, ...]}`` or a bare list. Raises ValueError if the file
    itself is unreadable; a bad record becomes a row error."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Not valid JSON (line {exc.lineno}): {exc.msg}.") from None
    except RecursionError:
        raise ValueError("Not valid JSON: nested too deeply.") from None
    items = data.get("atoms") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError('Expected a list of atoms, or {"atoms": [...]}.')
    rows = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, dict):
            rows.append(ParsedRow(number, _normalise(item)))
        else:
            rows.append(ParsedRow(number, None, "Each atom must be a JSON object."))
    return rows


# --- CSV -------------------------------------------------------------------------------------
def records_to_csv(records: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        row = {
            "external_id": record.get("external_id") or "",
            "title": record["title"],
            "atom_type": record["atom_type"],
            "tags": ";".join(record.get("tags", [])),
        }
        for column in _JSON_COLUMNS:
            row[column] = json.dumps(record.get(column, []), ensure_ascii=False, sort_keys=True)
        for name in ATOM_METADATA_FIELDS:
            row[name] = record.get("metadata", {}).get(name, "")
        writer.writerow(row)
    return out.getvalue()


def parse_csv(text: str) -> list[ParsedRow]:
    """One atom per row; JSON-valued cells for content, grading_logic, options and concepts."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"title", "atom_type", "content"} - set(reader.fieldnames or ())
    if missing:
        raise ValueError(f"The CSV lacks the column(s): {', '.join(sorted(missing))}.")
    rows = []
    try:
        for row in reader:
            line = reader.line_num
            try:
                rows.append(ParsedRow(line, _normalise(_csv_row_to_record(row))))
            except ValueError as exc:
                rows.append(ParsedRow(line, None, str(exc)))
    except csv.Error as exc:  # a cell over csv.field_size_limit() (128 KB), say
        raise ValueError(f"Line {reader.line_num + 1}: {exc}.") from None
    return rows


def _csv_row_to_record(row: dict) -> dict:
    record: dict = {
        "external_id": (row.get("external_id") or "").strip() or None,
        "title": (row.get("title") or "").strip(),
        "atom_type": (row.get("atom_type") or "").strip(),
        "tags": [t.strip() for t in (row.get("tags") or "").split(";") if t.strip()],
    }
    for column in _JSON_COLUMNS:
        cell = (row.get(column) or "").strip()
        if not cell:
            record[column] = {} if column in ("content", "grading_logic") else []
            continue
        try:
            record[column] = json.loads(cell)
        except json.JSONDecodeError as exc:
            raise ValueError(f"Column {column!r} is not valid JSON: {exc.msg}.") from None
        except RecursionError:
            raise ValueError(f"Column {column!r} is nested too deeply.") from None
    metadata = {}
    for name in ATOM_METADATA_FIELDS:
        cell = (row.get(name) or "").strip()
        if not cell:
            continue
        try:
            metadata[name] = (
                int(cell) if name in _INT_FIELDS else float(cell) if name in _FLOAT_FIELDS else cell
            )
        except ValueError:
            raise ValueError(f"Column {name!r} must be a number, got {cell!r}.") from None
    record["metadata"] = metadata
    return record


def _normalise(record: dict) -> dict:
    """Fill optional keys so every reader yields the same shape."""
    return {
        "external_id": record.get("external_id") or None,
        "title": record.get("title") or "",
        "atom_type": record.get("atom_type") or "",
        "content": record.get("content", {}),
        "grading_logic": record.get("grading_logic", {}),
        "options": record.get("options") or [],
        "concepts": record.get("concepts") or [],
        "tags": sorted(record.get("tags") or []),
        "metadata": record.get("metadata") or {},
    }
