"""Replay evaluation of the memory models on the real Anki review log.

Replays data/anki-review-log.csv (py-fsrs's test log, MIT) in time order, predicts
every repeat review before its outcome with FSRS-6, HLR (trained on the past only), SM-2,
Leitner, Pimsleur and a running-mean baseline, and prints the Markdown tables and the runtime.
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
    evaluate_replay,
    load_anki_log,
    replay_predictions,
)

DEFAULT_CSV = ROOT / "data" / "anki-review-log.csv"


def main(path: Path, rows: int | None) -> None:
    started = time.perf_counter()
    log = load_anki_log(path, limit=rows)
    loaded = time.perf_counter()
    replay = replay_predictions(log)
    replayed = time.perf_counter()
    everything = evaluate_replay(replay)
    day_scale = evaluate_replay(replay, min_elapsed_days=1.0)
    scored = time.perf_counter()
    print(f"{path.name}: {len(log)} reviews, {len(replay.y)} repeat reviews predicted")
    print("\nAll repeat reviews:\n")
    print(format_table(everything))
    print("\nDay-scale repeat reviews (≥ 1 day since the previous review):\n")
    print(format_table(day_scale))
    print(
        f"\nload {loaded - started:.2f} s, replay {replayed - loaded:.2f} s "
        f"({(replayed - loaded) / len(log) * 1e6:.0f} µs/review, "
        f"{len(replay.hlr_thetas)} HLR fits), metrics {scored - replayed:.3f} s"
    )


if __name__ == "__main__":
    csv_path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CSV
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else None
    main(csv_path, limit)
