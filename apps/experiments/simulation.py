"""Simulated learners run through an arm's scheduler, to size an experiment before it starts.

Each simulated learner studies a course of ``n_atoms`` atoms for ``days`` days: every day
they answer every atom the arm's scheduler has made due, then up to ``new_per_day`` atoms
they have not seen. Whether a review is recalled is drawn from a known memory model, the
*generator*, never from the scheduler being tested:

- ``fsrs``: FSRS-6 with py-fsrs's default weights (the memory the FSRS simulator assumes):
  recall R = (1 + F·t/(S·m))^(−w₂₀), S the stability the true model holds after the
  learner's actual outcomes, and m a per-learner memory strength (log-normal, σ 0.3);
- ``hlr``: half-life regression's generator (apps/scheduler/evaluation/simulation.py):
  p = 2^(−Δ/h), h = 2^(θ·x + learner and atom effects), θ the simulation's default.

Predicted retention is the arm's true retention (recalled reviews / reviews; a review is an
answer on an atom first seen on an earlier day), workload is answers per learner per day.
The scheduler is passed in as ``schedule(state, quality, at) -> (state, due)``, so the same
code that schedules live attempts (apps/scheduler/services.py: review_state_next) is tested.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from fsrs.scheduler import DEFAULT_PARAMETERS

from apps.scheduler.algorithms.fsrs_adapter import fsrs_review
from apps.scheduler.algorithms.hlr import hlr_features, hlr_half_life, hlr_recall
from apps.scheduler.evaluation.simulation import DEFAULT_SIMULATION_THETA

GENERATORS = ("fsrs", "hlr")
RECALLED_QUALITY, LAPSED_QUALITY, FIRST_QUALITY = 4, 1, 4


@dataclass(frozen=True)
class ArmPrediction:
    label: str
    learners: int
    days: int
    reviews: int
    recalled: int
    answers: int

    @property
    def retention(self) -> float | None:
        return self.recalled / self.reviews if self.reviews else None

    @property
    def reviews_per_learner_day(self) -> float:
        return self.reviews / (self.learners * self.days)

    @property
    def answers_per_learner_day(self) -> float:
        return self.answers / (self.learners * self.days)


class _FsrsTruth:
    decay = -DEFAULT_PARAMETERS[20]

    def __init__(self, rng, n_learners):
        self.strength = rng.lognormal(0.0, 0.3, n_learners)
        self.factor = 0.9 ** (1 / self.decay) - 1

    def start(self, learner, atom, at):
        state, _ = fsrs_review(None, 3, at)
        return state

    def recall(self, learner, state, at) -> float:
        elapsed = (at - datetime.fromisoformat(state["last_review"])).total_seconds() / 86400
        stability = state["stability"] * self.strength[learner]
        return (1 + self.factor * elapsed / stability) ** self.decay

    def update(self, learner, state, recalled, at):
        return fsrs_review(state, 3 if recalled else 1, at)[0]


class _HlrTruth:
    def __init__(self, rng, n_learners, n_atoms):
        self.theta = np.array(DEFAULT_SIMULATION_THETA, dtype=float)
        self.learner_effect = rng.normal(0.0, 0.3, n_learners)
        self.atom_effect = rng.normal(0.0, 0.3, n_atoms)

    def start(self, learner, atom, at):
        return {"atom": atom, "right": 1, "wrong": 0, "last": at}

    def recall(self, learner, state, at) -> float:
        x = hlr_features(np.array([state["right"]]), np.array([state["wrong"]]))
        theta = self.theta.copy()
        theta[2] += self.learner_effect[learner] + self.atom_effect[state["atom"]]
        h = hlr_half_life(x, theta)
        return float(hlr_recall(np.array([(at - state["last"]).total_seconds() / 86400]), h)[0])

    def update(self, learner, state, recalled, at):
        return {**state, "right": state["right"] + recalled,
                "wrong": state["wrong"] + (not recalled), "last": at}  # fmt: skip


def arm_simulate(
    *,
    label: str,
    schedule: Callable,
    n_learners: int,
    n_atoms: int,
    days: int,
    new_per_day: int,
    start: datetime,
    generator: str = "fsrs",
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> ArmPrediction:
    """Run ``n_learners`` simulated learners through ``schedule``; the same ``seed`` gives
    every arm the same learners (common random numbers: the arms differ by the scheduler)."""
    if generator not in GENERATORS:
        raise ValueError(f"generator must be one of {', '.join(GENERATORS)}")
    rng = np.random.default_rng(seed)
    truth = (
        _FsrsTruth(rng, n_learners) if generator == "fsrs" else _HlrTruth(rng, n_learners, n_atoms)
    )
    reviews = recalled_total = answers = 0
    for learner in range(n_learners):
        draws = np.random.default_rng([seed, learner])
        scheduled: dict[int, tuple[dict, datetime]] = {}  # atom → (scheduler state, due)
        memory: dict[int, dict] = {}  # atom → the generator's true state
        first_day: dict[int, int] = {}
        next_atom = 0
        for day in range(days):
            at = start + timedelta(days=day, hours=9)
            for atom in [a for a, (_, due) in scheduled.items() if due <= at]:
                state, _ = scheduled[atom]
                recalled = bool(draws.random() < truth.recall(learner, memory[atom], at))
                memory[atom] = truth.update(learner, memory[atom], recalled, at)
                quality = RECALLED_QUALITY if recalled else LAPSED_QUALITY
                scheduled[atom] = schedule(state, quality, at)
                answers += 1
                if day > first_day[atom]:
                    reviews += 1
                    recalled_total += recalled
            for _ in range(min(new_per_day, n_atoms - next_atom)):
                atom, next_atom = next_atom, next_atom + 1
                memory[atom] = truth.start(learner, atom, at)
                scheduled[atom] = schedule({}, FIRST_QUALITY, at)
                first_day[atom] = day
                answers += 1
        if progress is not None:
            progress(learner + 1)
    return ArmPrediction(label, n_learners, days, reviews, recalled_total, answers)
