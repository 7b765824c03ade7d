"""Calibrate dichotomous items from a CSV of responses (see ``apps.scheduler.algorithms.irt``).

CSV: a header row naming the columns; one row per person (or per response pattern); every
item column holds 0 or 1 (blank, i.e. "not administered", is not supported); an optional
``count`` column gives the row's frequency.
"""

import csv
import json
import math
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from apps.scheduler.algorithms.irt import C_PRIOR, MODELS, Calibration, calibrate

COUNT_COLUMN = "count"
TABLE_COLUMNS = ("a", "se_a", "b", "se_b", "c", "se_c")


def read_response_csv(path: Path) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """Item names, the (N, J) 0/1 matrix and the counts (None without a count column)."""
    if not path.is_file():
        raise CommandError(f"CSV file not found: {path}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return _parse(csv.reader(handle), path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc


def _parse(reader, path: Path) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    header = next(reader, None)
    if header is None:
        raise CommandError(f"{path} is empty: expected a header row")
    names = [name.strip() for name in header]
    for position, name in enumerate(names, start=1):
        if not name:
            raise CommandError(f"line 1: column {position} has no name")
    lowered = [name.lower() for name in names]
    duplicates = sorted({name for name in lowered if lowered.count(name) > 1})
    if duplicates:
        raise CommandError(f"line 1: duplicate column name(s): {', '.join(duplicates)}")
    count_at = lowered.index(COUNT_COLUMN) if COUNT_COLUMN in lowered else None
    item_at = [i for i in range(len(names)) if i != count_at]
    if len(item_at) < 2:
        raise CommandError(f"need at least 2 item columns, found {len(item_at)}")
    rows: list[list[int]] = []
    counts: list[int] = []
    for row in reader:
        line = reader.line_num
        if not row:  # a blank line
            continue
        if len(row) != len(names):
            raise CommandError(f"line {line}: expected {len(names)} fields, got {len(row)}")
        values = []
        for i in item_at:
            value = row[i].strip()
            if value == "":
                raise CommandError(
                    f"line {line}, column '{names[i]}': blank value; not-administered items "
                    "are not supported (every row needs a 0 or 1 for every item)"
                )
            if value not in ("0", "1"):
                raise CommandError(
                    f"line {line}, column '{names[i]}': expected 0 or 1, got {value!r}"
                )
            values.append(int(value))
        rows.append(values)
        if count_at is not None:
            raw = row[count_at].strip()
            if not (raw.isascii() and raw.isdigit()):
                raise CommandError(
                    f"line {line}, column '{names[count_at]}': expected a non-negative integer, "
                    f"got {raw!r}"
                )
            counts.append(int(raw))
    if not rows:
        raise CommandError(f"{path} has no data rows")
    responses = np.array(rows, dtype=float)
    weights = np.array(counts, dtype=float) if count_at is not None else None
    return [names[i] for i in item_at], responses, weights


def _check_items(names: list[str], responses: np.ndarray, counts: np.ndarray | None) -> None:
    weights = np.ones(len(responses)) if counts is None else counts
    total = weights.sum()
    if total <= 0:
        raise CommandError("every row has count 0: nothing to calibrate")
    correct = weights @ responses
    constant = [name for name, n in zip(names, correct, strict=True) if n in (0, total)]
    if constant:
        raise CommandError(
            "items answered all correct or all wrong cannot be calibrated: " + ", ".join(constant)
        )


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def calibration_payload(names: list[str], cal: Calibration) -> dict:
    items = []
    for j, name in enumerate(names):
        item = {"item": name}
        item.update({key: _number(getattr(cal, key)[j]) for key in TABLE_COLUMNS})
        items.append(item)
    return {
        "model": cal.model,
        "items": items,
        "log_likelihood": _number(cal.log_likelihood),
        "iterations": cal.iterations,
        "converged": cal.converged,
    }


def format_table(names: list[str], cal: Calibration) -> str:
    width = max(4, *(len(name) for name in names))
    lines = [f"{'item':<{width}}" + "".join(f"{key:>10}" for key in TABLE_COLUMNS)]
    for j, name in enumerate(names):
        cells = []
        for key in TABLE_COLUMNS:
            value = getattr(cal, key)[j]
            cells.append(f"{'-':>10}" if math.isnan(value) else f"{value:>10.4f}")
        lines.append(f"{name:<{width}}" + "".join(cells))
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Calibrate 0/1 items by marginal maximum likelihood (Bock–Aitkin EM, θ ~ N(0, 1)) from "
        "a CSV with a header row, one row per person and an optional 'count' column."
    )

    def add_arguments(self, parser):
        parser.add_argument("--csv", type=Path, required=True, help="responses CSV")
        parser.add_argument("--model", choices=MODELS, required=True, help="IRT model")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def handle(self, *args, **options):
        names, responses, counts = read_response_csv(options["csv"])
        _check_items(names, responses, counts)
        try:
            cal = calibrate(responses, counts, options["model"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not cal.converged:
            self.stderr.write(f"warning: EM stopped after {cal.iterations} iterations unconverged")
        if options["json"]:
            self.stdout.write(
                json.dumps(calibration_payload(names, cal), indent=2, allow_nan=False)
            )
            return
        persons = len(responses) if counts is None else int(counts.sum())
        prior = f"; c ~ Beta({C_PRIOR[0]:g}, {C_PRIOR[1]:g}) prior" if cal.model == "3pl" else ""
        self.stdout.write(
            f"model: {cal.model}  persons: {persons}  items: {len(names)}  "
            f"(logistic metric, no D = 1.7; θ ~ N(0, 1){prior})"
        )
        self.stdout.write(format_table(names, cal))
        state = "converged" if cal.converged else "not converged"
        self.stdout.write(f"marginal log-likelihood: {cal.log_likelihood:.4f}")
        self.stdout.write(f"EM iterations: {cal.iterations} ({state})")
