"""Replay of a review log through the memory models (pure numpy + csv).

Replay protocol (:func:`replay_predictions`)
    Reviews are replayed in time order. For every review of a card that has been reviewed
    before, each model predicts the probability of recall *before* the outcome is revealed;
    then every model is updated with the outcome. The outcome is ``recalled = rating > 1``
    (Anki ratings 1 Again, 2 Hard, 3 Good, 4 Easy). First reviews are not predicted (there is
    nothing to remember yet) but they do update the models.

Models
    FSRS        py-fsrs 6 with its default parameters (through ``fsrs_adapter``); the
                prediction is the FSRS forgetting curve at the exact elapsed time
                (``fsrs_retrievability(..., exact_elapsed=True)``).
    HLR         half-life regression trained on the past only: retrained every
                ``retrain_every`` predicted reviews on all the predicted reviews before the
                current one (warm-started from the previous θ), with the paper's defaults
                α = 0.01, λ = 0.1. Features: √(1+correct), √(1+wrong) of the card so far, bias.
                Until the first training the seed's cold-start rule gives the card's interval
                from its accuracy so far, and that interval is used as the half-life.
    SM-2        ``sm2_review`` driven by the Anki rating mapped to a quality (Again→2, Hard→3,
                Good→4, Easy→5; the inverse of ``quality_to_fsrs_rating``), predicting
                p = 2^(−elapsed/interval) — the scheduled interval read as a half-life.
    Leitner     five boxes (1, 2, 4, 8, 16 days), p = 2^(−elapsed/interval).
    Pimsleur    graduated intervals 5 s … 2 years, p = 2^(−elapsed/interval).
    Constant    the running mean of the earlier scored outcomes, (k + 1)/(n + 2) after k
                recalls in n reviews (computed per scope, see below).

Scopes
    ``min_elapsed_days`` restricts scoring to reviews at least that long after the card's
    previous review (the models still learn from every review). The command and the benchmark
    report all predicted reviews and the day-scale ones (≥ 1 day): in an Anki log about half
    the repeat reviews are same-day learning steps minutes apart, where every forgetting curve
    predicts near-certain recall, yet more than a quarter of them fail.
"""

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from apps.scheduler.algorithms import leitner, pimsleur
from apps.scheduler.algorithms.fsrs_adapter import fsrs_retrievability, fsrs_review
from apps.scheduler.algorithms.hlr import (
    hlr_cold_start_interval_days,
    hlr_features,
    hlr_half_life,
    hlr_recall,
    hlr_train,
)
from apps.scheduler.algorithms.sm2 import SM2State, sm2_review
from apps.scheduler.evaluation.metrics import ModelScore, evaluate_predictions

SECONDS_PER_DAY = 86400.0
ANKI_TO_SM2_QUALITY = {1: 2, 2: 3, 3: 4, 4: 5}
FSRS, HLR, SM2, LEITNER, PIMSLEUR = "FSRS-6 (default)", "HLR", "SM-2", "Leitner", "Pimsleur"
CONSTANT = "Constant (running mean)"
MODELS = (FSRS, HLR, SM2, LEITNER, PIMSLEUR, CONSTANT)


@dataclass
class ReviewLog:
    """A review log as parallel arrays, sorted by time."""

    card_id: np.ndarray  # int64
    rating: np.ndarray  # int64, Anki 1..4
    time: np.ndarray  # float64, seconds since the Unix epoch (UTC)
    duration_ms: np.ndarray  # int64

    def __len__(self) -> int:
        return int(self.card_id.shape[0])

    def head(self, n: int) -> "ReviewLog":
        return ReviewLog(self.card_id[:n], self.rating[:n], self.time[:n], self.duration_ms[:n])


def load_anki_log(path: str | Path, limit: int | None = None) -> ReviewLog:
    """Read ``card_id,review_rating,review_time,review_duration`` (ISO 8601 times).

    Rows are sorted by time (stably, so same-instant reviews keep the file's order); ``limit``
    keeps the first ``limit`` rows of the file.
    """
    card_ids, ratings, times, durations = [], [], [], []
    with open(path, newline="") as handle:
        for i, row in enumerate(csv.DictReader(handle)):
            if limit is not None and i >= limit:
                break
            moment = datetime.fromisoformat(row["review_time"])
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            card_ids.append(int(row["card_id"]))
            ratings.append(int(row["review_rating"]))
            times.append(moment.timestamp())
            durations.append(int(row["review_duration"] or 0))
    order = np.argsort(np.asarray(times, dtype=float), kind="stable")
    log = ReviewLog(
        card_id=np.asarray(card_ids, dtype=np.int64)[order],
        rating=np.asarray(ratings, dtype=np.int64)[order],
        time=np.asarray(times, dtype=float)[order],
        duration_ms=np.asarray(durations, dtype=np.int64)[order],
    )
    if np.any((log.rating < 1) | (log.rating > 4)):
        raise ValueError("review_rating must be 1..4 (Anki Again/Hard/Good/Easy)")
    return log


@dataclass
class _Card:
    last_time: float
    fsrs: dict
    sm2: SM2State
    leitner: leitner.LeitnerState
    pimsleur: pimsleur.PimsleurState
    correct: int = 0
    wrong: int = 0


@dataclass
class Replay:
    """Per predicted review: the outcome, days since the card's previous review, each
    model's prediction (the constant baseline is added per scope by :func:`evaluate_replay`),
    and the HLR θ of each retraining."""

    y: np.ndarray
    elapsed_days: np.ndarray
    predictions: dict[str, np.ndarray]
    hlr_thetas: list[np.ndarray] = field(default_factory=list)


def running_mean_baseline(y) -> np.ndarray:
    """Prediction for review i: (recalls before i + 1) / (reviews before i + 2)."""
    y = np.asarray(y, dtype=float)
    before = np.cumsum(y) - y
    return (before + 1.0) / (np.arange(y.size) + 2.0)


def replay_predictions(
    log: ReviewLog,
    retrain_every: int = 1000,
    hlr_alpha: float = 0.01,
    hlr_l2: float = 0.1,
    hlr_epochs: int = 200,
) -> Replay:
    """Replay ``log`` in time order; see the module docstring for the protocol."""
    cards: dict[int, _Card] = {}
    preds: dict[str, list[float]] = {m: [] for m in MODELS if m != CONSTANT}
    outcomes: list[float] = []
    elapsed_days: list[float] = []
    hlr_rows: list[tuple[float, float, float, float]] = []  # correct, wrong, Δ days, recalled
    theta = None
    thetas: list[np.ndarray] = []
    trained_on = 0

    for card_id, rating, moment in zip(
        log.card_id.tolist(), log.rating.tolist(), log.time.tolist(), strict=True
    ):
        reviewed_at = datetime.fromtimestamp(moment, tz=UTC)
        recalled = rating > 1
        card = cards.get(card_id)
        if card is not None:
            if len(hlr_rows) - trained_on >= retrain_every:
                rows = np.asarray(hlr_rows)
                model = hlr_train(
                    hlr_features(rows[:, 0], rows[:, 1]),
                    rows[:, 2],
                    rows[:, 3],
                    alpha=hlr_alpha,
                    l2=hlr_l2,
                    epochs=hlr_epochs,
                    theta0=theta,
                )
                theta, trained_on = model.theta, len(hlr_rows)
                thetas.append(theta)
            elapsed = max(0.0, (moment - card.last_time) / SECONDS_PER_DAY)
            if theta is None:
                accuracy = card.correct / (card.correct + card.wrong)
                half_life = float(hlr_cold_start_interval_days(accuracy))
            else:
                half_life = float(
                    hlr_half_life(hlr_features([card.correct], [card.wrong]), theta)[0]
                )
            preds[FSRS].append(fsrs_retrievability(card.fsrs, reviewed_at, exact_elapsed=True))
            preds[HLR].append(float(hlr_recall(elapsed, half_life)))
            preds[SM2].append(float(2.0 ** (-elapsed / max(card.sm2.interval_days, 1))))
            preds[LEITNER].append(leitner.predict_recall(card.leitner, elapsed))
            preds[PIMSLEUR].append(pimsleur.predict_recall(card.pimsleur, elapsed))
            outcomes.append(float(recalled))
            elapsed_days.append(elapsed)
            hlr_rows.append((card.correct, card.wrong, elapsed, float(recalled)))
        else:
            card = _Card(
                last_time=moment,
                fsrs={},
                sm2=SM2State(),
                leitner=leitner.LeitnerState(),
                pimsleur=pimsleur.PimsleurState(),
            )
            cards[card_id] = card

        card.fsrs, _due = fsrs_review(card.fsrs, rating, reviewed_at)
        card.sm2 = sm2_review(card.sm2, ANKI_TO_SM2_QUALITY[rating], reviewed_at)
        card.leitner = leitner.leitner_review(card.leitner, recalled, reviewed_at)
        card.pimsleur = pimsleur.pimsleur_review(card.pimsleur, recalled, reviewed_at)
        card.correct += recalled
        card.wrong += not recalled
        card.last_time = moment

    return Replay(
        y=np.asarray(outcomes),
        elapsed_days=np.asarray(elapsed_days),
        predictions={m: np.asarray(v, dtype=float) for m, v in preds.items()},
        hlr_thetas=thetas,
    )


def evaluate_replay(
    replay: Replay, min_elapsed_days: float = 0.0, n_bins: int = 20
) -> list[ModelScore]:
    """Score every model on the replayed reviews at least ``min_elapsed_days`` apart."""
    scope = replay.elapsed_days >= min_elapsed_days
    y = replay.y[scope]
    predictions = {m: p[scope] for m, p in replay.predictions.items()}
    predictions[CONSTANT] = running_mean_baseline(y)
    return [evaluate_predictions(m, y, predictions[m], n_bins) for m in MODELS]


def evaluate_log(
    log: ReviewLog | str | Path,
    limit: int | None = None,
    retrain_every: int = 1000,
    min_elapsed_days: float = 0.0,
    n_bins: int = 20,
) -> list[ModelScore]:
    """Replay a log (or a CSV path) and score every model on the predicted reviews."""
    if not isinstance(log, ReviewLog):
        log = load_anki_log(log, limit=limit)
    elif limit is not None:
        log = log.head(limit)
    replay = replay_predictions(log, retrain_every=retrain_every)
    return evaluate_replay(replay, min_elapsed_days=min_elapsed_days, n_bins=n_bins)
