"""BKT's EM (apps/scheduler/algorithms/bkt.py) against pyBKT on simulated data.

Simulates skills from known parameters, fits them with ``bkt_fit_skills`` (what ``bkt_fit``
runs) and with pyBKT (CAHLR's reference implementation, PyPI ``pybkt`` 1.4.3, no forgetting),
and prints both fits, the generating values, the differences and each fit's log-likelihood.
No Django or database needed.

pyBKT is not a project dependency: 1.4.3 fails on the numpy 2 and scikit-learn 1.9 the project
uses (its metrics import calls ``log_loss`` on lists; its EM assigns arrays to scalars). It runs
in a separate virtualenv with the versions it was built for:

    python3 -m venv /tmp/pybkt
    /tmp/pybkt/bin/pip install pybkt==1.4.3 numpy==1.26.4 "pandas<2.3" scikit-learn==1.5.2
    PYBKT_PYTHON=/tmp/pybkt/bin/python .venv/bin/python bench/bench_bkt_fit.py [learners] [steps]

pyBKT runs in pure Python there (about 7 minutes for the default 4 × 2,000 × 15 with five
restarts; this project's EM takes about a second).

Without PYBKT_PYTHON (and without pyBKT importable here) only this project's fit is printed.
"""

import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.scheduler.algorithms.bkt import (  # noqa: E402
    BKTParams,
    bkt_fit_skills,
    bkt_log_likelihood,
    bkt_simulate,
)

GENERATING = {
    "fractions": BKTParams(p_init=0.3, p_transit=0.15, p_guess=0.2, p_slip=0.1),
    "decimals": BKTParams(p_init=0.5, p_transit=0.08, p_guess=0.25, p_slip=0.15),
    "ratios": BKTParams(p_init=0.2, p_transit=0.25, p_guess=0.15, p_slip=0.05),
    "percent": BKTParams(p_init=0.1, p_transit=0.1, p_guess=0.3, p_slip=0.2),
}
FIELDS = {"p_init": "prior", "p_transit": "learns", "p_guess": "guesses", "p_slip": "slips"}

# Runs in the pyBKT interpreter: CSV in, {skill: {prior, learns, guesses, slips}} out.
PYBKT_SCRIPT = """
import json, sys, time
import pandas as pd
from pyBKT.models import Model
data = pd.read_csv(sys.argv[1])
started = time.perf_counter()
model = Model(seed=42, num_fits=5)
model.fit(data=data)
elapsed = time.perf_counter() - started
table = model.params().reset_index()
fits = {}
for skill, param, value in table[table["class"] == "default"][["skill", "param", "value"]].values:
    fits.setdefault(skill, {})[param] = float(value)
print(json.dumps({"fits": fits, "seconds": elapsed}))
"""


def simulate(learners: int, steps: int, seed: int = 2026) -> dict[str, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return {skill: list(bkt_simulate(p, learners, steps, rng)) for skill, p in GENERATING.items()}


def write_pybkt_csv(sequences: dict, path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "user_id", "skill_name", "correct"])
        order = 0
        for skill, rows in sequences.items():
            for learner, answers in enumerate(rows):
                for answer in answers:
                    order += 1
                    writer.writerow([order, f"{skill}-{learner}", skill, int(answer)])


def pybkt_fit(sequences: dict) -> tuple[dict[str, BKTParams], float] | None:
    python = os.environ.get("PYBKT_PYTHON")
    if not python:
        try:
            import pyBKT  # noqa: F401
        except ImportError:
            return None
        python = sys.executable
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "answers.csv"
        write_pybkt_csv(sequences, path)
        done = subprocess.run(  # noqa: S603 - the interpreter the operator named
            [python, "-c", PYBKT_SCRIPT, str(path)], capture_output=True, text=True, check=False
        )
    if done.returncode:
        print(f"pyBKT failed:\n{done.stderr[-2000:]}")
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    fits = {
        skill: BKTParams(**{field: values[name] for field, name in FIELDS.items()})
        for skill, values in result["fits"].items()
    }
    return fits, result["seconds"]


def main(learners: int, steps: int) -> None:
    sequences = simulate(learners, steps)
    started = time.perf_counter()
    ours = bkt_fit_skills(sequences).skills
    ours_seconds = time.perf_counter() - started
    print(f"{len(GENERATING)} skills × {learners} learners × {steps} answers (no forgetting)")
    print(f"this project's EM: {ours_seconds:.2f} s")
    reference = pybkt_fit(sequences)
    if reference is None:
        print("pyBKT not available (see the module docstring): printing this project's fit only")
    else:
        print(f"pyBKT (num_fits=5): {reference[1]:.2f} s")
    header = f"{'skill':<10} {'param':<9} {'true':>6} {'ours':>7} {'|ours−true|':>11}"
    if reference:
        header += f" {'pyBKT':>7} {'|pyBKT−true|':>12} {'|ours−pyBKT|':>12}"
    print("\n" + header)
    worst = {"ours": 0.0, "pybkt": 0.0, "between": 0.0}
    for skill, true in GENERATING.items():
        for field in FIELDS:
            t, o = getattr(true, field), getattr(ours[skill].params, field)
            line = f"{skill:<10} {field:<9} {t:>6.3f} {o:>7.4f} {abs(o - t):>11.4f}"
            worst["ours"] = max(worst["ours"], abs(o - t))
            if reference:
                r = getattr(reference[0][skill], field)
                line += f" {r:>7.4f} {abs(r - t):>12.4f} {abs(o - r):>12.4f}"
                worst["pybkt"] = max(worst["pybkt"], abs(r - t))
                worst["between"] = max(worst["between"], abs(o - r))
            print(line)
    print(f"\nlargest |ours − true| {worst['ours']:.4f}")
    if reference:
        print(f"largest |pyBKT − true| {worst['pybkt']:.4f}")
        print(f"largest |ours − pyBKT| {worst['between']:.4f}")
        print("\nlog-likelihood of each fit on its skill's data (higher is better):")
        for skill, data in sequences.items():
            mine = bkt_log_likelihood(data, ours[skill].params)
            theirs = bkt_log_likelihood(data, reference[0][skill])
            print(f"  {skill:<10} ours {mine:.3f}  pyBKT {theirs:.3f}  Δ {mine - theirs:+.3f}")
    if not math.isfinite(worst["ours"]):
        raise SystemExit("fit failed")


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 2000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 15,
    )
