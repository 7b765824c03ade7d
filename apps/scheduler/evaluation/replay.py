"""srs-benchmark's evaluation protocol on a review log (pure numpy + csv, no Django).

Protocol (github.com/open-spaced-repetition/srs-benchmark, the default, long-term setting)
    1. Calendar days: each review falls on the learner's local day (``calendar_days``: the
       time zone, UTC for an Anki export unless given, and the day-start hour, 4 by default).
    2. Only the first review of a card per day is kept; later same-day reviews are dropped
       from the scored reviews and from the card's history alike.
    3. Every later review of a card (a *repeat*) is predicted from that card's earlier kept
       history: elapsed days Δ ≥ 1 since its previous review, its earlier ratings. The outcome
       is recalled = rating > 1 (Again = 1 is a lapse).
    4. Time split: the repeats in time order, the first ``split`` of them train and the rest
       are scored. Every trained model (FSRS parameters, HLR weights and its α/λ) is fitted
       only on the training repeats and the histories before them; no test outcome reaches a
       fit. Predictions of test reviews use the card's earlier history (also earlier test
       reviews, as a deployed scheduler would).

Models (``MODELS``)
    constant      the running mean of the outcomes revealed before each review,
                  (k + 1)/(n + 2) after k recalls in n earlier repeats (all training
                  outcomes, then the earlier test outcomes as they come).
    sm2           SM-2 (``sm2_review``, Anki rating → quality Again 2, Hard 3, Good 4,
                  Easy 5) over the kept history; recall p = 0.9^(Δ/I), I its interval.
    hlr           half-life regression on √(1+right), √(1+wrong), a bias and card
                  indicators, log-loss recall term; α, λ and whether the card indicators help
                  are chosen on the last 20% (in time) of the training repeats
                  (``hlr_select``), then refitted on all of them.
    fsrs_default  FSRS-6 with its default parameters on calendar days (``fsrs_models``).
    fsrs_fitted   FSRS-6 with parameters fitted on the training part (``fsrs_fit_parameters``).
"""

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from apps.scheduler.algorithms.calendar_days import DEFAULT_DAY_START_HOUR, local_day
from apps.scheduler.algorithms.hlr import hlr_features, hlr_select
from apps.scheduler.algorithms.sm2 import SM2State, sm2_review
from apps.scheduler.evaluation.fsrs_models import (
    fsrs_default_parameters,
    fsrs_fit_parameters,
    fsrs_recall,
    fsrs_stabilities,
)
from apps.scheduler.evaluation.metrics import ModelScore, evaluate_predictions

PROTOCOL = "srs-benchmark"
DEFAULT_SPLIT = 0.7
ANKI_TO_SM2_QUALITY = {1: 2, 2: 3, 3: 4, 4: 5}
SM2_REFERENCE_RECALL = 0.9
CONSTANT, SM2, HLR, FSRS_DEFAULT, FSRS_FITTED = (
    "constant",
    "sm2",
    "hlr",
    "fsrs_default",
    "fsrs_fitted",
)
MODELS = (CONSTANT, SM2, HLR, FSRS_DEFAULT, FSRS_FITTED)
_EPOCH_DAY = datetime(1970, 1, 1).date()


@dataclass
class ReviewLog:
    """A review log as parallel arrays, sorted by time. ``day`` is the learner's calendar
    day of each review (days since 1970-01-01 in the learner's zone, after the day start)."""

    card_id: np.ndarray  # int64
    rating: np.ndarray  # int64, Anki 1..4
    time: np.ndarray  # float64, seconds since the Unix epoch (UTC)
    day: np.ndarray  # int64

    def __len__(self) -> int:
        return int(self.card_id.shape[0])

    def take(self, rows) -> "ReviewLog":
        return ReviewLog(self.card_id[rows], self.rating[rows], self.time[rows], self.day[rows])


def review_log(card_ids, ratings, moments, days) -> ReviewLog:
    """A ReviewLog from columns, sorted by time (stably: same-instant reviews keep their
    order); rejects ratings outside 1..4."""
    times = np.asarray(moments, dtype=float)
    order = np.argsort(times, kind="stable")
    log = ReviewLog(
        card_id=np.asarray(card_ids, dtype=np.int64)[order],
        rating=np.asarray(ratings, dtype=np.int64)[order],
        time=times[order],
        day=np.asarray(days, dtype=np.int64)[order],
    )
    if np.any((log.rating < 1) | (log.rating > 4)):
        raise ValueError("review_rating must be 1..4 (Anki Again/Hard/Good/Easy)")
    return log


def day_number(moment: datetime, timezone: str, day_start_hour: int) -> int:
    return (local_day(moment, timezone, day_start_hour) - _EPOCH_DAY).days


def load_anki_log(
    path: str | Path,
    limit: int | None = None,
    timezone: str = "UTC",
    day_start_hour: int = DEFAULT_DAY_START_HOUR,
) -> ReviewLog:
    """Read ``card_id,review_rating,review_time[,review_duration]`` (ISO 8601 times; naive
    ones are UTC, as in Anki's export). ``limit`` keeps the first ``limit`` rows of the file."""
    card_ids, ratings, times, days = [], [], [], []
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
            days.append(day_number(moment, timezone, day_start_hour))
    return review_log(card_ids, ratings, times, days)


def first_review_per_day(log: ReviewLog) -> ReviewLog:
    """Keep each card's first review of each calendar day (the log is in time order)."""
    seen: set[tuple[int, int]] = set()
    keep = []
    for row, key in enumerate(zip(log.card_id.tolist(), log.day.tolist(), strict=True)):
        if key not in seen:
            seen.add(key)
            keep.append(row)
    return log.take(np.asarray(keep, dtype=np.int64))


@dataclass
class RepeatReviews:
    """The kept reviews grouped by card, and one row per repeat review in time order."""

    histories: list[list[tuple[int, int]]]  # per card: (rating, elapsed days), kept reviews
    card: np.ndarray  # row → index into histories
    position: np.ndarray  # row → index of the review in its card's history (≥ 1)
    kept_index: np.ndarray  # row → index among all kept reviews (time order)
    y: np.ndarray
    elapsed_days: np.ndarray
    review_number: np.ndarray  # srs-benchmark's i: 2 for a card's first repeat
    lapses: np.ndarray  # earlier Again answers, the card's first review not counted
    prior_correct: np.ndarray
    prior_wrong: np.ndarray
    time: np.ndarray
    n_kept: int

    def __len__(self) -> int:
        return int(self.y.shape[0])


def repeat_reviews(daily: ReviewLog) -> RepeatReviews:
    """Histories and repeat rows of a log already reduced by :func:`first_review_per_day`."""
    card_of: dict[int, int] = {}
    histories: list[list[tuple[int, int]]] = []
    last_day: list[int] = []
    counts: list[list[int]] = []  # right, wrong, lapses
    columns: dict[str, list] = {
        k: []
        for k in (
            "card",
            "position",
            "kept_index",
            "y",
            "elapsed_days",
            "review_number",
            "lapses",
            "prior_correct",
            "prior_wrong",
            "time",
        )
    }
    rows = zip(
        daily.card_id.tolist(),
        daily.rating.tolist(),
        daily.day.tolist(),
        daily.time.tolist(),
        strict=True,
    )
    for k, (card_id, rating, day, moment) in enumerate(rows):
        card = card_of.get(card_id)
        recalled = rating > 1
        if card is None:
            card_of[card_id] = len(histories)
            histories.append([(rating, 0)])
            last_day.append(day)
            counts.append([int(recalled), int(not recalled), 0])
            continue
        elapsed = day - last_day[card]
        if elapsed < 1:
            raise ValueError("repeat_reviews needs the first review per day only, in time order")
        history = histories[card]
        right, wrong, lapses = counts[card]
        for key, value in (
            ("card", card),
            ("position", len(history)),
            ("kept_index", k),
            ("y", float(recalled)),
            ("elapsed_days", elapsed),
            ("review_number", len(history) + 1),
            ("lapses", lapses),
            ("prior_correct", right),
            ("prior_wrong", wrong),
            ("time", moment),
        ):
            columns[key].append(value)
        history.append((rating, elapsed))
        last_day[card] = day
        counts[card] = [right + recalled, wrong + (not recalled), lapses + (not recalled)]
    return RepeatReviews(
        histories=histories,
        **{
            k: np.asarray(v, dtype=float if k in ("y", "time") else np.int64)
            for k, v in columns.items()
        },
        n_kept=len(daily),
    )


def split_point(n: int, split: float) -> int:
    """Number of training repeats: the first ``split`` of ``n`` in time order."""
    if not 0.0 < split < 1.0:
        raise ValueError("split must be between 0 and 1")
    return int(np.floor(n * split))


def running_mean_baseline(y) -> np.ndarray:
    """Prediction for review i: (recalls before i + 1) / (reviews before i + 2)."""
    y = np.asarray(y, dtype=float)
    before = np.cumsum(y) - y
    return (before + 1.0) / (np.arange(y.size) + 2.0)


def sm2_predictions(reviews: RepeatReviews) -> np.ndarray:
    """p = 0.9^(Δ/I), I the SM-2 interval after the card's earlier kept reviews."""
    start = datetime(2000, 1, 1, tzinfo=UTC)
    intervals: list[list[int]] = []
    for history in reviews.histories:
        state, after = SM2State(), []
        for rating, _elapsed in history:
            state = sm2_review(state, ANKI_TO_SM2_QUALITY[rating], start)
            after.append(state.interval_days)
        intervals.append(after)
    interval = np.array(
        [
            intervals[c][p - 1]
            for c, p in zip(reviews.card.tolist(), reviews.position.tolist(), strict=True)
        ],
        dtype=float,
    )
    return SM2_REFERENCE_RECALL ** (reviews.elapsed_days / np.maximum(interval, 1.0))


def fsrs_predictions(reviews: RepeatReviews, parameters) -> np.ndarray:
    stabilities = fsrs_stabilities(reviews.histories, parameters)
    stability = np.array(
        [
            stabilities[c][p - 1]
            for c, p in zip(reviews.card.tolist(), reviews.position.tolist(), strict=True)
        ]
    )
    return fsrs_recall(reviews.elapsed_days, stability, float(parameters[20]))


def training_histories(reviews: RepeatReviews, n_train: int) -> list[list[tuple[int, int]]]:
    """Each card's history cut before the first test repeat (cards with a training repeat)."""
    if n_train == 0:
        return []
    boundary = reviews.kept_index[n_train - 1]  # last training repeat, among kept reviews
    length: dict[int, int] = {}
    for c, p, k in zip(
        reviews.card[:n_train].tolist(),
        reviews.position[:n_train].tolist(),
        reviews.kept_index[:n_train].tolist(),
        strict=True,
    ):
        if k <= boundary:
            length[c] = max(length.get(c, 0), p + 1)
    return [reviews.histories[c][:n] for c, n in sorted(length.items())]


def hlr_design(reviews: RepeatReviews, n_train: int):
    """HLR features for every repeat; card indicators for the cards of the training part."""
    X = hlr_features(reviews.prior_correct, reviews.prior_wrong)
    vocabulary = {c: i for i, c in enumerate(dict.fromkeys(reviews.card[:n_train].tolist()))}
    indicator = np.array([vocabulary.get(c, -1) for c in reviews.card.tolist()], dtype=int)
    return X, indicator, len(vocabulary)


@dataclass
class Evaluation:
    n_train: int
    n_test: int
    scores: dict[str, ModelScore]
    predictions: dict[str, np.ndarray]  # test rows
    hlr: dict = field(default_factory=dict)
    fsrs_parameters: list[float] | None = None

    def as_json(self) -> dict:
        return {
            "protocol": PROTOCOL,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "models": {name: score.as_dict() for name, score in self.scores.items()},
        }

    def ordered_scores(self) -> list[ModelScore]:
        return [self.scores[m] for m in MODELS if m in self.scores]


def evaluate_reviews(log: ReviewLog, split: float = DEFAULT_SPLIT) -> Evaluation:
    """Run the protocol (module docstring) on a log and score every model on the test part."""
    reviews = repeat_reviews(first_review_per_day(log))
    n = len(reviews)
    n_train = split_point(n, split)
    if n_train < 10 or n - n_train < 1:
        raise ValueError(
            f"{n} repeat reviews ({n_train} before the split): too few to evaluate; "
            "need at least 10 training and 1 test review."
        )
    test = slice(n_train, n)
    predictions: dict[str, np.ndarray] = {
        CONSTANT: running_mean_baseline(reviews.y),
        SM2: sm2_predictions(reviews),
        FSRS_DEFAULT: fsrs_predictions(reviews, fsrs_default_parameters()),
    }
    X, indicator, n_indicators = hlr_design(reviews, n_train)
    selection = hlr_select(
        X[:n_train],
        reviews.elapsed_days[:n_train],
        reviews.y[:n_train],
        indicator_index=indicator[:n_train],
        n_indicators=n_indicators,
    )
    predictions[HLR] = selection.model.predict_recall(
        X, reviews.elapsed_days, indicator if selection.indicators else None
    )
    fitted = fsrs_fit_parameters(training_histories(reviews, n_train))
    if fitted is not None:
        predictions[FSRS_FITTED] = fsrs_predictions(reviews, fitted)
    test_predictions = {m: predictions[m][test] for m in MODELS if m in predictions}
    scores = {
        m: evaluate_predictions(
            m,
            reviews.y[test],
            p,
            reviews.elapsed_days[test],
            reviews.review_number[test],
            reviews.lapses[test],
        )
        for m, p in test_predictions.items()
    }
    return Evaluation(
        n_train=n_train,
        n_test=n - n_train,
        scores=scores,
        predictions=test_predictions,
        hlr={
            "alpha": selection.alpha,
            "l2": selection.l2,
            "card_indicators": selection.indicators,
            "validation_log_loss": round(selection.validation_log_loss, 6),
        },
        fsrs_parameters=fitted,
    )
