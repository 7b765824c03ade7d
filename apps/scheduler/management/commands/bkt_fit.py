"""Fit BKT parameters per concept (skill) by EM, from a course's attempts or from a CSV.

``bkt_fit --course ID [--json]``: fit the course's pooled prior and every concept with enough
answers, and record them as new versions (``apps.scheduler.bkt_fitting.course_bkt_fit``; the
nightly ``scheduler.bkt_fit_all`` task does the same for every published course).

``bkt_fit --csv FILE [--json]``: fit every skill of a CSV and print the parameters; nothing is
stored. Columns (a header row, any order, others ignored): ``learner``, ``skill``, ``correct``
(0 or 1) and ``order`` (a number: each learner's answers on a skill are taken in this order).
The JSON is ``{"skills": {SKILL: {"prior", "learn", "guess", "slip", "n": rows}}}``.
"""

import csv
import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from apps.scheduler.algorithms.bkt import bkt_fit_skills, bkt_params_as_dict

CSV_COLUMNS = ("learner", "skill", "correct", "order")


def read_answers_csv(path: Path) -> dict[str, list[np.ndarray]]:
    """{skill: [one 0/1 array per learner, in ``order``]} from the CSV (CommandError with the
    line and column on a bad value)."""
    if not path.is_file():
        raise CommandError(f"CSV file not found: {path}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return _parse(csv.reader(handle), path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc


def _parse(reader, path: Path) -> dict[str, list[np.ndarray]]:
    header = next(reader, None)
    if header is None:
        raise CommandError(f"{path} is empty: expected a header row")
    names = [name.strip().lower() for name in header]
    missing = [column for column in CSV_COLUMNS if column not in names]
    if missing:
        raise CommandError(f"line 1: missing column(s): {', '.join(missing)}")
    at = {column: names.index(column) for column in CSV_COLUMNS}
    answers: dict = defaultdict(list)  # (skill, learner) → [(order, line, correct)]
    for row in reader:
        line = reader.line_num
        if not row:
            continue
        if len(row) != len(names):
            raise CommandError(f"line {line}: expected {len(names)} fields, got {len(row)}")
        skill, learner = row[at["skill"]].strip(), row[at["learner"]].strip()
        correct, order = row[at["correct"]].strip(), row[at["order"]].strip()
        if not skill or not learner:
            column = "skill" if not skill else "learner"
            raise CommandError(f"line {line}, column '{column}': blank value")
        if correct not in ("0", "1"):
            raise CommandError(f"line {line}, column 'correct': expected 0 or 1, got {correct!r}")
        try:
            position = float(order)
        except ValueError:
            position = math.nan
        if not math.isfinite(position):
            raise CommandError(f"line {line}, column 'order': expected a number, got {order!r}")
        answers[(skill, learner)].append((position, line, int(correct)))
    if not answers:
        raise CommandError(f"{path} has no data rows")
    sequences: dict[str, list[np.ndarray]] = defaultdict(list)
    for (skill, _learner), rows in sorted(answers.items()):
        rows.sort()  # by order; equal orders keep the file's order
        sequences[skill].append(np.array([correct for *_, correct in rows], dtype=np.int8))
    return dict(sequences)


def _rounded(params, n: int) -> dict:
    rounded = {name: round(value, 6) for name, value in bkt_params_as_dict(params).items()}
    return rounded | {"n": n}


class Command(BaseCommand):
    help = "Fit BKT parameters per concept by EM: from a course's attempts (stored) or a CSV."

    def add_arguments(self, parser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--course", help="Course id: fit and record its concepts' BKT.")
        source.add_argument("--csv", type=Path, help="CSV with learner,skill,correct,order.")
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args, **options) -> None:
        if options["csv"] is not None:
            self._from_csv(options["csv"], options["json"])
        else:
            self._from_course(options["course"], options["json"])

    def _from_csv(self, path: Path, as_json: bool) -> None:
        fitted = bkt_fit_skills(read_answers_csv(path))
        skills = {
            skill: _rounded(fit.params, fitted.answers[skill])
            for skill, fit in sorted(fitted.skills.items())
        }
        if as_json:
            self.stdout.write(json.dumps({"skills": skills}))
            return
        header = ("skill", "n", "prior", "learn", "guess", "slip")
        self.stdout.write(f"{header[0]:<24} " + " ".join(f"{h:>7}" for h in header[1:]))
        for skill, row in skills.items():
            self.stdout.write(
                f"{skill:<24} {row['n']:>7} {row['prior']:>7.3f} {row['learn']:>7.3f} "
                f"{row['guess']:>7.3f} {row['slip']:>7.3f}"
            )

    def _from_course(self, course_id: str, as_json: bool) -> None:
        from django.core.exceptions import ValidationError

        from apps.curriculum.models import Course
        from apps.scheduler.bkt_fitting import BKT_MIN_ATTEMPTS, course_bkt_fit

        try:
            course = Course.objects.filter(pk=course_id).first()
        except (ValueError, ValidationError):
            course = None
        if course is None:
            raise CommandError(f"no course {course_id}")
        result = course_bkt_fit(course=course)

        def described(outcome) -> dict:
            row = {"n": outcome.attempts, "learners": outcome.learners}
            if outcome.params is None:
                return row | {"fitted": False}
            stored = {"version": outcome.version, "in_use": outcome.in_use}
            stored |= {"fitted": True, "recorded": outcome.recorded}
            return _rounded(outcome.params, outcome.attempts) | row | stored

        report = {
            "course": str(course.pk),
            "minimum_attempts": BKT_MIN_ATTEMPTS,
            "pooled": described(result.pooled) if result.pooled else None,
            "skills": {o.concept_id: described(o) for o in result.concepts},
        }
        if as_json:
            self.stdout.write(json.dumps(report))
            return
        if result.pooled is None:
            self.stdout.write(f"{course}: no attempts on its concepts yet; nothing fitted.")
            return
        self.stdout.write(
            f"{course}: BKT fitted on {result.pooled.attempts} answers "
            f"(a fit is used from {BKT_MIN_ATTEMPTS} answers)"
        )
        for name, row in [("pooled prior", report["pooled"]), *report["skills"].items()]:
            if not row["fitted"]:
                self.stdout.write(f"  {name}: {row['n']} answers, too few: uses the pooled prior")
                continue
            state = "in use" if row["in_use"] else "history only (too few answers)"
            change = "" if row["recorded"] else ", unchanged data: not recorded again"
            self.stdout.write(
                f"  {name}: v{row['version']} ({state}{change}) n={row['n']} "
                f"prior={row['prior']:.3f} learn={row['learn']:.3f} "
                f"guess={row['guess']:.3f} slip={row['slip']:.3f}"
            )
