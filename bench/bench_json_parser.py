"""What the hardened JSON parser costs on the hot path: a 500-attempt offline batch (the
largest body a learner sends) parsed by DRF's JSONParser and by apps.core.parsers.JSONParser,
which also bounds the size and refuses unpaired surrogates. Same bodies, same run.
Run: .venv/bin/python bench/bench_json_parser.py [repeats]
"""

import io
import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from rest_framework.parsers import JSONParser as DRFJSONParser  # noqa: E402

from apps.core.parsers import JSONParser  # noqa: E402


def batch_body(rows: int, *, ascii_escapes: bool) -> bytes:
    row = {"atom": str(uuid.uuid4()), "response": {"blanks": ["stopping", "distance", "😀"]},
           "time_taken_ms": 1500, "answered_at": "2026-12-05T10:00:00+00:00"}  # fmt: skip
    attempts = [row | {"client_attempt_id": str(uuid.uuid4())} for _ in range(rows)]
    return json.dumps({"attempts": attempts}, ensure_ascii=ascii_escapes).encode()


def per_parse_us(parser, body: bytes, repeats: int) -> float:
    best = float("inf")
    for _ in range(5):  # best of five rounds: the machine is shared
        started = time.perf_counter()
        for _ in range(repeats):
            parser.parse(io.BytesIO(body), "application/json", {})
        best = min(best, (time.perf_counter() - started) / repeats)
    return best * 1e6


def main(repeats: int) -> None:
    # Browsers send UTF-8 as is; Python's json.dumps escapes the emoji as surrogate pairs,
    # which the parser must then tell from unpaired ones.
    for ascii_escapes, kind in ((False, "UTF-8 as is"), (True, "\\u escapes")):
        for rows in (1, 500):
            body = batch_body(rows, ascii_escapes=ascii_escapes)
            baseline = per_parse_us(DRFJSONParser(), body, repeats)
            hardened = per_parse_us(JSONParser(), body, repeats)
            print(f"{rows:>4} attempts, {kind:<12} ({len(body):>7,} bytes): DRF {baseline:8.1f} "
                  f"µs, hardened {hardened:8.1f} µs, ratio {hardened / baseline:.2f}×")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
