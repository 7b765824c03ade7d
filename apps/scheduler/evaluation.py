"""Offline evaluation of the memory models on a review log, and simulated learners.

Pure numpy + csv (no Django), so it runs from the management command, the benchmark and the
tests alike.

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

Simulated learners (:func:`simulate_reviews`, :func:`hlr_recovery`)
    Outcomes are drawn from a known HLR memory model; fitting HLR on them recovers θ and the
    half-lives (Pearson r ≈ 0.9997 on the default simulation).

Metrics (:func:`evaluate_predictions`)
    log loss    mean −[y ln p + (1 − y) ln(1 − p)], p clipped to [10⁻⁶, 1 − 10⁻⁶].
    RMSE (bins) predictions are binned into ``n_bins`` equal-width bins of predicted
                probability; per bin the mean prediction is compared with the mean outcome
                and the squared gaps are averaged weighted by bin size:
                √(Σ_b n_b (p̄_b − ȳ_b)² / N). (srs-benchmark's RMSE(bins) bins reviews by
                interval, review count and lapses instead; both measure calibration.)
    AUC         the Mann–Whitney rank statistic; tied predictions get their average rank.
    MAE         mean |p − y|.
"""

import csv
import math
from dataclasses import asdict, dataclass, field
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

SECONDS_PER_DAY = 86400.0
ANKI_TO_SM2_QUALITY = {1: 2, 2: 3, 3: 4, 4: 5}
FSRS, HLR, SM2, LEITNER, PIMSLEUR = "FSRS-6 (default)", "HLR", "SM-2", "Leitner", "Pimsleur"
CONSTANT = "Constant (running mean)"
MODELS = (FSRS, HLR, SM2, LEITNER, PIMSLEUR, CONSTANT)
EPS = 1e-6


# --------------------------------------------------------------------------- the review log


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


# ------------------------------------------------------------------------------- metrics


def log_loss(y, p) -> float:
    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), EPS, 1.0 - EPS)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))


def rmse_bins(y, p, n_bins: int = 20) -> float:
    """√(Σ_b n_b (mean prediction_b − mean outcome_b)² / N) over equal-width prediction bins."""
    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    if y.size == 0:
        return float("nan")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    used = counts > 0
    mean_p = np.bincount(bins, weights=p, minlength=n_bins)[used] / counts[used]
    mean_y = np.bincount(bins, weights=y, minlength=n_bins)[used] / counts[used]
    return float(np.sqrt(np.sum(counts[used] * (mean_p - mean_y) ** 2) / y.size))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], ordered.size]
    average = (starts + ends + 1) / 2.0  # 1-based average rank of each tie group
    ranks = np.empty(values.size)
    ranks[order] = np.repeat(average, ends - starts)
    return ranks


def auc(y, p) -> float:
    """ROC AUC as the Mann–Whitney U statistic; ties count one half. NaN without both classes."""
    y = np.asarray(y, dtype=float) > 0.5
    p = np.asarray(p, dtype=float)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = _average_ranks(p)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def mae(y, p) -> float:
    return float(np.mean(np.abs(np.asarray(p, dtype=float) - np.asarray(y, dtype=float))))


@dataclass(frozen=True)
class ModelScore:
    model: str
    n: int
    log_loss: float
    rmse_bins: float
    auc: float
    mae: float

    def as_dict(self) -> dict:
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(self).items()
        }


def evaluate_predictions(model: str, y, p, n_bins: int = 20) -> ModelScore:
    return ModelScore(
        model=model,
        n=int(np.asarray(y).size),
        log_loss=log_loss(y, p),
        rmse_bins=rmse_bins(y, p, n_bins),
        auc=auc(y, p),
        mae=mae(y, p),
    )


def format_table(scores: list[ModelScore]) -> str:
    """A Markdown table, one row per model (lower is better except AUC)."""
    lines = [
        "| Model | Reviews | Log loss ↓ | RMSE (bins) ↓ | AUC ↑ | MAE ↓ |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in scores:
        lines.append(
            f"| {s.model} | {s.n} | {s.log_loss:.4f} | {s.rmse_bins:.4f} | {s.auc:.4f} "
            f"| {s.mae:.4f} |"
        )
    return "\n".join(lines)


# -------------------------------------------------------------------------------- replay


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


# ---------------------------------------------------------------------- simulated learners

DEFAULT_SIMULATION_THETA = (1.0, -0.6, 0.5)  # √(1+correct), √(1+wrong), bias


@dataclass
class SimulatedReviews:
    """Reviews drawn from a known HLR memory model, one row per review."""

    learner: np.ndarray
    item: np.ndarray
    X: np.ndarray  # HLR features at review time (with item indicators if θ has them)
    delta_days: np.ndarray
    recalled: np.ndarray  # 0/1 (or fraction correct when trials > 1)
    p_true: np.ndarray
    half_life_true: np.ndarray


def simulate_reviews(
    n_learners: int,
    n_items: int,
    true_theta=DEFAULT_SIMULATION_THETA,
    seed: int = 0,
    reviews_per_item: int = 8,
    min_gap_days: float = 0.02,
    max_gap_days: float = 60.0,
    trials: int = 1,
) -> SimulatedReviews:
    """Every learner reviews every item ``reviews_per_item`` times.

    Gaps are log-uniform in [min_gap_days, max_gap_days]; at each review the true half-life is
    h = 2^(θ·x) for the learner's history x of that item, recall is p = 2^(−Δ/h) and the
    outcome is Binomial(trials, p)/trials (a Bernoulli draw for ``trials=1``). If ``true_theta``
    has 3 + n_items entries the last n_items are per-item (concept) effects.
    """
    theta = np.asarray(true_theta, dtype=float)
    if theta.shape[0] not in (3, 3 + n_items):
        raise ValueError("true_theta needs 3 or 3 + n_items entries")
    with_items = theta.shape[0] == 3 + n_items
    rng = np.random.default_rng(seed)
    pairs = n_learners * n_items
    learner = np.repeat(np.arange(n_learners), n_items)
    item = np.tile(np.arange(n_items), n_learners)
    correct, wrong = np.zeros(pairs), np.zeros(pairs)
    parts = {k: [] for k in ("X", "delta", "y", "p", "h")}
    for _ in range(reviews_per_item):
        X = hlr_features(correct, wrong, item if with_items else None, n_items if with_items else 0)
        h = hlr_half_life(X, theta)
        delta = np.exp(rng.uniform(np.log(min_gap_days), np.log(max_gap_days), pairs))
        p = hlr_recall(delta, h)
        successes = rng.binomial(trials, p)
        correct += successes
        wrong += trials - successes
        for key, value in zip(parts, (X, delta, successes / trials, p, h), strict=True):
            parts[key].append(value)
    return SimulatedReviews(
        learner=np.tile(learner, reviews_per_item),
        item=np.tile(item, reviews_per_item),
        X=np.vstack(parts["X"]),
        delta_days=np.concatenate(parts["delta"]),
        recalled=np.concatenate(parts["y"]),
        p_true=np.concatenate(parts["p"]),
        half_life_true=np.concatenate(parts["h"]),
    )


@dataclass(frozen=True)
class HLRRecovery:
    true_theta: np.ndarray
    fitted_theta: np.ndarray
    half_life_correlation: float  # Pearson, fitted vs true half-lives of the simulated reviews
    n_reviews: int


def hlr_recovery(
    n_learners: int = 100,
    n_items: int = 10,
    true_theta=DEFAULT_SIMULATION_THETA,
    seed: int = 0,
    alpha: float = 0.0,
    l2: float = 1e-4,
    epochs: int = 300,
) -> HLRRecovery:
    """Simulate learners from ``true_theta``, fit HLR on their binary outcomes, compare.

    The fit uses α = 0 and λ = 10⁻⁴. With binary outcomes the paper's half-life target
    h = −Δ/log₂(p) is degenerate: p is clipped to 0.9999 or 0.0001, so every recall asks for
    the 274-day ceiling and every lapse for Δ/13.3, and with α = 0.01 that term outweighs the
    recall term (on the default simulation the paper's α = 0.01, λ = 0.1 give
    θ ≈ (0.35, 0.01, 6.6) and a half-life correlation of 0.85, against θ ≈ (1.06, −0.67, 0.47)
    and 0.9997 here). λ = 0.1 on the mean loss likewise shrinks θ towards 0 (correlation 0.5).
    """
    sim = simulate_reviews(n_learners, n_items, true_theta, seed=seed)
    model = hlr_train(
        sim.X, sim.delta_days, sim.recalled, alpha=alpha, l2=l2, epochs=epochs, seed=seed
    )
    fitted = model.half_life(sim.X)
    return HLRRecovery(
        true_theta=np.asarray(true_theta, dtype=float),
        fitted_theta=model.theta,
        half_life_correlation=float(np.corrcoef(fitted, sim.half_life_true)[0, 1]),
        n_reviews=int(sim.recalled.size),
    )
