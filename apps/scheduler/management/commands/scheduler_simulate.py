"""Print the schedule an algorithm produces for a sequence of ratings.

Each review happens exactly when the previous one fell due (the first at ``--start``, default
now, UTC). Ratings per algorithm:

* ``sm2``     SM-2 qualities 0..5.
* ``fsrs``    FSRS ratings 1..4 (Again, Hard, Good, Easy); deterministic (``--no-fuzz``, the
              default) unless ``--fuzz`` is given.
* ``leitner`` and ``hlr``  correct/wrong: if every rating is 0 or 1 they mean wrong/correct;
  otherwise the sequence is read as SM-2 qualities 0..5 and a rating ≥ 3 is correct.
  ``hlr`` schedules with the cold-start rule (accuracy so far ≥ 0.85 → 7 days, ≥ 0.60 → 3 days,
  else 1 day), which is what the product uses until an HLR model has been trained.

``--fuzz`` / ``--no-fuzz`` only affect FSRS, the one algorithm here that fuzzes.
"""

import argparse
import json
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError

from apps.scheduler.algorithms.fsrs_adapter import fsrs_review
from apps.scheduler.algorithms.hlr import hlr_cold_start_interval_days
from apps.scheduler.algorithms.leitner import LeitnerState, leitner_review
from apps.scheduler.algorithms.sm2 import SM2State, sm2_review

ALLOWED = {"sm2": (0, 5), "fsrs": (1, 4), "leitner": (0, 5), "hlr": (0, 5)}
ALLOWED_TEXT = {
    "sm2": "0..5",
    "fsrs": "1..4",
    "leitner": "0/1 (wrong/correct) or 0..5 (≥ 3 is correct)",
    "hlr": "0/1 (wrong/correct) or 0..5 (≥ 3 is correct)",
}


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400.0


def _correctness(ratings: list[int]) -> list[bool]:
    if all(r in (0, 1) for r in ratings):
        return [r == 1 for r in ratings]
    return [r >= 3 for r in ratings]


def simulate(algorithm: str, ratings: list[int], start: datetime, fuzz: bool = True) -> list[dict]:
    """One ``{"review", "rating", "interval_days", "due"}`` per rating; see the module doc."""
    low, high = ALLOWED[algorithm]
    bad = [r for r in ratings if not low <= r <= high]
    if bad or not ratings:
        raise ValueError(
            f"{algorithm} ratings must be {ALLOWED_TEXT[algorithm]}"
            + (f"; got {', '.join(map(str, bad))}" if bad else "; got none")
        )
    at = start
    out = []
    correct = _correctness(ratings)
    sm2, leitner, fsrs_state = SM2State(), LeitnerState(), None
    right = 0
    for n, rating in enumerate(ratings, start=1):
        if algorithm == "sm2":
            sm2 = sm2_review(sm2, rating, at)
            due = sm2.due
        elif algorithm == "fsrs":
            fsrs_state, due = fsrs_review(fsrs_state, rating, at, fuzz=fuzz)
        elif algorithm == "leitner":
            leitner = leitner_review(leitner, correct[n - 1], at)
            due = leitner.due
        else:  # hlr, cold-start rule on the accuracy so far
            right += correct[n - 1]
            due = at + timedelta(days=hlr_cold_start_interval_days(right / n))
        out.append(
            {
                "review": n,
                "rating": rating,
                "interval_days": _days(due - at),
                "due": due.isoformat(),
            }
        )
        at = due
    return out


class Command(BaseCommand):
    help = "Print the intervals an algorithm schedules for a sequence of ratings, as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--algorithm", required=True, choices=sorted(ALLOWED))
        parser.add_argument(
            "--ratings",
            required=True,
            help="comma-separated ratings: sm2 0..5, fsrs 1..4, leitner/hlr 0/1 or 0..5",
        )
        parser.add_argument("--start", default=None, help="ISO 8601 time of the first review")
        parser.add_argument(
            "--fuzz",
            action=argparse.BooleanOptionalAction,
            default=False,
            help="FSRS interval fuzz (off by default: --no-fuzz)",
        )

    def handle(self, *args, **options):
        algorithm = options["algorithm"]
        try:
            ratings = [int(part) for part in options["ratings"].split(",") if part.strip()]
        except ValueError as exc:
            raise CommandError(
                f"--ratings must be comma-separated integers; {algorithm} allows "
                f"{ALLOWED_TEXT[algorithm]}"
            ) from exc
        if options["start"]:
            try:
                start = datetime.fromisoformat(options["start"])
            except ValueError as exc:
                raise CommandError(f"--start is not an ISO 8601 time: {options['start']}") from exc
            start = start.replace(tzinfo=UTC) if start.tzinfo is None else start
            start = start.astimezone(UTC)
        else:
            start = datetime.now(UTC)
        try:
            schedule = simulate(algorithm, ratings, start, fuzz=options["fuzz"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(schedule, indent=2))
