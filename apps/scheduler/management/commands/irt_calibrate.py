"""Calibrate dichotomous items from a CSV of responses (see ``apps.scheduler.algorithms.irt``).

CSV: a header row naming the columns; one row per person (or per response pattern); each item
column holds 0, 1 or nothing (a blank cell: the item was not administered to that person, and
contributes nothing to the likelihood); an optional ``count`` column gives the row's frequency.
Items answered fewer than ``--min-responses`` times are left out and reported without
estimates.
"""

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from apps.scheduler.algorithms.irt import C_PRIOR, MODELS, Calibration, calibrate

COUNT_COLUMN = "count"
TABLE_COLUMNS = ("a", "se_a", "b", "se_b", "c", "se_c")


def read_response_csv(
    path: Path,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray | None]:
    """Item names, the (N, J) 0/1 matrix (0 where blank), the (N, J) mask of answered cells
    and the counts (None without a count column)."""
    if not path.is_file():
        raise CommandError(f"CSV file not found: {path}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return _parse(csv.reader(handle), path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc


def _parse(reader, path: Path) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray | None]:
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
    answered: list[list[bool]] = []
    counts: list[int] = []
    for row in reader:
        line = reader.line_num
        if not row:  # a blank line
            continue
        if len(row) != len(names):
            raise CommandError(f"line {line}: expected {len(names)} fields, got {len(row)}")
        values, given = [], []
        for i in item_at:
            value = row[i].strip()
            if value not in ("0", "1", ""):
                raise CommandError(
                    f"line {line}, column '{names[i]}': expected 0, 1 or blank (not "
                    f"administered), got {value!r}"
                )
            values.append(1 if value == "1" else 0)
            given.append(value != "")
        rows.append(values)
        answered.append(given)
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
    return [names[i] for i in item_at], responses, np.array(answered, dtype=bool), weights


def _item_counts(responses, mask, counts) -> tuple[np.ndarray, np.ndarray]:
    """(answers, right answers) per item, count-weighted."""
    weights = np.ones(len(responses)) if counts is None else counts
    return weights @ mask, weights @ (responses * mask)


def _check_items(names: list[str], answers: np.ndarray, correct: np.ndarray) -> None:
    constant = [name for name, n, r in zip(names, answers, correct, strict=True) if r in (0, n)]
    if constant:
        raise CommandError(
            "items answered all correct or all wrong cannot be calibrated: " + ", ".join(constant)
        )


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


@dataclass(frozen=True)
class ItemTable:
    """Every item of the CSV: its answers, and its estimates if it was calibrated."""

    names: list[str]
    answers: np.ndarray  # count-weighted answers per item
    calibrated: np.ndarray  # bool: enough answers to be in the calibration
    cal: Calibration  # of the calibrated items only, in order

    def value(self, key: str, j: int) -> float:
        if not self.calibrated[j]:
            return math.nan
        return float(getattr(self.cal, key)[int(self.calibrated[:j].sum())])


def calibration_payload(table: ItemTable) -> dict:
    items = []
    for j, name in enumerate(table.names):
        item = {"item": name, "n": _number(table.answers[j])}
        item.update({key: _number(table.value(key, j)) for key in TABLE_COLUMNS})
        items.append(item)
    cal = table.cal
    return {
        "model": cal.model,
        "items": items,
        "log_likelihood": _number(cal.log_likelihood),
        "iterations": cal.iterations,
        "converged": cal.converged,
    }


def format_table(table: ItemTable) -> str:
    width = max(4, *(len(name) for name in table.names))
    lines = [f"{'item':<{width}}{'n':>8}" + "".join(f"{key:>10}" for key in TABLE_COLUMNS)]
    for j, name in enumerate(table.names):
        cells = [f"{table.answers[j]:>8g}"]
        for key in TABLE_COLUMNS:
            value = table.value(key, j)
            cells.append(f"{'-':>10}" if math.isnan(value) else f"{value:>10.4f}")
        lines.append(f"{name:<{width}}" + "".join(cells))
    return "\n".join(lines)


class Command(BaseCommand):
    help = (
        "Calibrate 0/1 items by marginal maximum likelihood (Bock–Aitkin EM, θ ~ N(0, 1)) from "
        "a CSV with a header row, one row per person and an optional 'count' column; a blank "
        "cell means the item was not administered."
    )

    def add_arguments(self, parser):
        parser.add_argument("--csv", type=Path, required=True, help="responses CSV")
        parser.add_argument("--model", choices=MODELS, required=True, help="IRT model")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument(
            "--min-responses",
            type=int,
            default=1,
            help="answers an item needs to be calibrated (fewer: reported without estimates)",
        )

    def handle(self, *args, **options):
        names, responses, mask, counts = read_response_csv(options["csv"])
        if counts is not None and counts.sum() <= 0:
            raise CommandError("every row has count 0: nothing to calibrate")
        minimum = max(1, options["min_responses"])
        answers, correct = _item_counts(responses, mask, counts)
        calibrated = answers >= minimum
        left_out = [name for name, ok in zip(names, calibrated, strict=True) if not ok]
        if left_out:
            self.stderr.write(
                f"warning: fewer than {minimum} answers, not calibrated: {', '.join(left_out)}"
            )
        if calibrated.sum() < 2:
            raise CommandError(f"need at least 2 items with {minimum} or more answers")
        kept = np.flatnonzero(calibrated)
        _check_items([names[j] for j in kept], answers[kept], correct[kept])
        try:
            cal = calibrate(responses[:, kept], counts, options["model"], mask=mask[:, kept])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not cal.converged:
            self.stderr.write(f"warning: EM stopped after {cal.iterations} iterations unconverged")
        table = ItemTable(names, answers, calibrated, cal)
        if options["json"]:
            self.stdout.write(json.dumps(calibration_payload(table), indent=2, allow_nan=False))
            return
        weights = np.ones(len(responses)) if counts is None else counts
        persons = int(weights @ mask[:, kept].any(axis=1))
        missing = 1.0 - float((weights @ mask[:, kept]).sum()) / (weights.sum() * len(kept))
        prior = f"; c ~ Beta({C_PRIOR[0]:g}, {C_PRIOR[1]:g}) prior" if cal.model == "3pl" else ""
        self.stdout.write(
            f"model: {cal.model}  persons: {persons}  items: {len(names)}  "
            f"not administered: {missing:.0%}  "
            f"(logistic metric, no D = 1.7; θ ~ N(0, 1){prior})"
        )
        self.stdout.write(format_table(table))
        state = "converged" if cal.converged else "not converged"
        self.stdout.write(f"marginal log-likelihood: {cal.log_likelihood:.4f}")
        self.stdout.write(f"EM iterations: {cal.iterations} ({state})")
