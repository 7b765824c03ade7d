"""The memory models on the real Anki review log, with srs-benchmark's protocol.

Reads data/anki-review-log.csv (py-fsrs's test log, MIT), keeps the first review of each card
per calendar day (UTC, day starting at 04:00), splits the repeat reviews 70/30 in time, fits
FSRS-6 and HLR on the first part only and prints log loss, RMSE(bins) and AUC of constant,
SM-2, HLR, FSRS-6 (default) and FSRS-6 (fitted) on the later part, with the runtime.
No Django or database needed.
Run: .venv/bin/python bench/bench_scheduler_eval.py [csv] [rows]
"""

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.scheduler.evaluation.metrics import format_table  # noqa: E402
from apps.scheduler.evaluation.replay import (  # noqa: E402
    evaluate_reviews,
    first_review_per_day,
    load_anki_log,
)

DEFAULT_CSV = ROOT / "data" / "anki-review-log.csv"


def main(path: Path, rows: int | None) -> None:
    started = time.perf_counter()
    log = load_anki_log(path, limit=rows)
    loaded = time.perf_counter()
    evaluation = evaluate_reviews(log)
    evaluated = time.perf_counter()
    kept = len(first_review_per_day(log))
    print(
        f"{path.name}: {len(log)} reviews, {kept} first-of-the-day; {evaluation.n_train} "
        f"repeat reviews train, {evaluation.n_test} are scored\n"
    )
    print(format_table(evaluation.ordered_scores()))
    hlr = evaluation.hlr
    print(
        f"\nHLR α = {hlr['alpha']:g}, λ = {hlr['l2']:g}, card indicators "
        f"{'on' if hlr['card_indicators'] else 'off'}"
    )
    print(
        f"load {loaded - started:.2f} s, evaluate {evaluated - loaded:.2f} s "
        f"({(evaluated - loaded) / len(log) * 1e6:.0f} µs/review)"
    )


if __name__ == "__main__":
    csv_path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CSV
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else None
    main(csv_path, limit)
