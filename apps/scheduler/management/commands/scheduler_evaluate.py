"""Replay an Anki review log and compare the memory models (see ``apps.scheduler.evaluation``)."""

import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.scheduler.evaluation.metrics import format_table
from apps.scheduler.evaluation.replay import evaluate_replay, load_anki_log, replay_predictions

DAY_SCALE = 1.0


def default_csv() -> Path:
    return Path(settings.BASE_DIR) / "data" / "anki-review-log.csv"


class Command(BaseCommand):
    help = (
        "Replay a review log in time order and score FSRS, HLR, SM-2, Leitner, Pimsleur and a "
        "constant baseline on predicting recall (log loss, RMSE (bins), AUC, MAE)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--csv",
            type=Path,
            default=None,
            help="card_id,review_rating,review_time,review_duration CSV "
            "(default: data/anki-review-log.csv, py-fsrs's test log, MIT)",
        )
        parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
        parser.add_argument("--limit", type=int, default=None, help="use the first N rows only")
        parser.add_argument(
            "--retrain-every",
            type=int,
            default=1000,
            help="retrain HLR after this many predicted reviews (default 1000)",
        )

    def handle(self, *args, **options):
        path = options["csv"] or default_csv()
        if not path.is_file():
            raise CommandError(f"review log not found: {path}")
        if options["retrain_every"] < 1:
            raise CommandError("--retrain-every must be at least 1")
        started = time.perf_counter()
        try:
            log = load_anki_log(path, limit=options["limit"])
        except (KeyError, ValueError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        replay = replay_predictions(log, retrain_every=options["retrain_every"])
        scopes = {
            "all": evaluate_replay(replay),
            "elapsed_ge_1d": evaluate_replay(replay, min_elapsed_days=DAY_SCALE),
        }
        seconds = time.perf_counter() - started
        if options["json"]:
            payload = {
                "csv": str(path),
                "reviews": len(log),
                "seconds": round(seconds, 3),
                "scopes": {k: [s.as_dict() for s in v] for k, v in scopes.items()},
            }
            self.stdout.write(json.dumps(payload, indent=2))
            return
        self.stdout.write(f"{path}: {len(log)} reviews, replayed in {seconds:.1f} s")
        self.stdout.write("\n## All repeat reviews\n")
        self.stdout.write(format_table(scopes["all"]))
        self.stdout.write("\n## Day-scale repeat reviews (≥ 1 day since the previous review)\n")
        self.stdout.write(format_table(scopes["elapsed_ge_1d"]))
