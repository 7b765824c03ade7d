"""Each course's FSRS parameters, fitted from its learners' attempts with fsrs-rs.

fsrs-rs (``fsrs_rs_python``) is the Rust FSRS that Anki ships: it fits the 21 FSRS-6 weights
without torch, scores them (log loss, RMSE(bins)) and simulates a course to find the desired
retention that costs least per memorised item.

Review histories follow srs-benchmark: a card is a (learner, atom) pair; only the first review
of each of the learner's calendar days counts (a day starts at ``day_start_hour`` in the
learner's time zone, ``calendar_days``); elapsed time is in those days; ratings come from the
attempt's quality (``quality_to_fsrs_rating``: 0–2 Again, 3 Hard, 4 Good, 5 Easy). Every review
after a card's first is one training sample, predicted from the card's earlier history.

``course_fsrs_fit`` records a new ``FittedModel`` version (kind ``fsrs``) per fit. A fit on
fewer than ``FSRS_MIN_REVIEWS`` samples is kept as history only: the course goes on with the
previous version in use, or the defaults. ``fsrs_predictions`` / ``fsrs_log_loss`` score any
weights on any histories (the evaluation can reuse them).
"""

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import fsrs_rs_python
from django.conf import settings

from .algorithms.calendar_days import DEFAULT_DAY_START_HOUR, local_day
from .algorithms.fsrs_adapter import fsrs_rs_model, fsrs_rs_parameters, quality_to_fsrs_rating

# Below this many repeat reviews (on later days) a fit is recorded but not used. Anki fits from
# a few hundred; 1,000 keeps a course's first weeks on the defaults, which fit most people well.
FSRS_MIN_REVIEWS = settings.FSRS_MIN_REVIEWS
# optimal_retention simulates a collection of this many cards for a year, 20 new cards a day
# (Anki's default limit); larger decks give the same answer more slowly.
OPTIMAL_RETENTION_DECK_SIZE = 1000
OPTIMAL_RETENTION_NEW_PER_DAY = 20

# A card's history: [(rating 1..4, days since the previous counted review)], the first with 0.
ReviewHistory = list[tuple[int, int]]


@dataclass(frozen=True)
class AttemptRow:
    """One attempt, as the fit reads it."""

    card: tuple  # (learner id, atom id)
    answered_at: datetime
    quality: int
    timezone: str = "UTC"


def review_histories(
    rows: Iterable[AttemptRow], *, day_start_hour: int = DEFAULT_DAY_START_HOUR
) -> list[ReviewHistory]:
    """Per card, the first review of each of the learner's calendar days, with the days
    elapsed since the previous one. ``rows`` must come in (card, answered_at) order."""
    histories: dict[tuple, ReviewHistory] = {}
    last_day: dict[tuple, object] = {}
    for row in rows:
        day = local_day(row.answered_at, row.timezone, day_start_hour)
        previous = last_day.get(row.card)
        if previous is not None and day <= previous:
            continue  # a later review of the same day (or a clock gone back): not counted
        rating = quality_to_fsrs_rating(row.quality)
        elapsed = 0 if previous is None else (day - previous).days
        histories.setdefault(row.card, []).append((rating, elapsed))
        last_day[row.card] = day
    return list(histories.values())


def fsrs_items(histories: Iterable[ReviewHistory]) -> list:
    """fsrs-rs's training items: for every review after a card's first, the card's history up
    to and including it (the last review is the one predicted)."""
    items = []
    for history in histories:
        reviews = [fsrs_rs_python.FSRSReview(rating, elapsed) for rating, elapsed in history]
        items += [
            fsrs_rs_python.FSRSItem(reviews[: end + 1])
            for end in range(1, len(reviews))
            if history[end][1] > 0
        ]
    return items


def fsrs_predictions(
    histories: Sequence[ReviewHistory], parameters: Sequence[float] | None = None
) -> tuple[list[float], list[int]]:
    """(predicted recall probability, recalled 0/1) for every review after a card's first on a
    later day, each predicted from the card's earlier reviews with these weights (``None``:
    the defaults). Recalled means a rating above Again."""
    weights = fsrs_rs_parameters(parameters)
    decay = -weights[20]
    factor = 0.9 ** (1 / decay) - 1
    model = fsrs_rs_model(weights)
    scored = [h for h in histories if len(h) > 1]
    items = [
        fsrs_rs_python.FSRSItem([fsrs_rs_python.FSRSReview(r, t) for r, t in h]) for h in scored
    ]
    predicted, recalled = [], []
    for history, states in zip(scored, model.historical_memory_state_batch(items), strict=True):
        for index in range(1, len(history)):
            rating, elapsed = history[index]
            if elapsed <= 0:
                continue
            stability = states[index - 1].stability
            predicted.append((1 + factor * elapsed / stability) ** decay)
            recalled.append(int(rating > 1))
    return predicted, recalled


def fsrs_log_loss(
    histories: Sequence[ReviewHistory], parameters: Sequence[float] | None = None
) -> float:
    """Mean log loss of ``fsrs_predictions`` (nan when there is nothing to predict)."""
    predicted, recalled = fsrs_predictions(histories, parameters)
    if not predicted:
        return math.nan
    eps = 1e-7
    return -sum(
        math.log(min(max(p, eps), 1 - eps)) if y else math.log(min(max(1 - p, eps), 1 - eps))
        for p, y in zip(predicted, recalled, strict=True)
    ) / len(predicted)


def fsrs_parameters_fit(histories: Sequence[ReviewHistory]) -> list[float]:
    """fsrs-rs's ``compute_parameters`` on these histories (the defaults when there is too
    little to move them)."""
    return [float(w) for w in fsrs_rs_python.FSRS([]).compute_parameters(fsrs_items(histories))]


def fsrs_scores(histories: Sequence[ReviewHistory], parameters: Sequence[float] | None) -> dict:
    """fsrs-rs's own evaluation (log loss, RMSE(bins)) of these weights on the histories."""
    evaluation = fsrs_rs_model(parameters).evaluate(fsrs_items(histories))
    return {"log_loss": float(evaluation.log_loss), "rmse_bins": float(evaluation.rmse_bins)}


def fsrs_optimal_retention(
    parameters: Sequence[float] | None = None,
    *,
    maximum_interval_days: int = 36500,
    deck_size: int = OPTIMAL_RETENTION_DECK_SIZE,
) -> float:
    """The desired retention that minimises study time per memorised card for these weights:
    fsrs-rs's ``optimal_retention`` (Anki's "compute minimum recommended retention") over a
    simulated year. It searches 0.70–0.95."""
    config = fsrs_rs_python.default_simulator_config()
    config.deck_size = deck_size
    config.learn_limit = OPTIMAL_RETENTION_NEW_PER_DAY
    config.max_ivl = float(maximum_interval_days)
    return float(fsrs_rs_python.optimal_retention(config, fsrs_rs_parameters(parameters)))


# --- the course's data and the recorded fit ------------------------------------------------


def course_attempt_rows(course) -> Iterable[AttemptRow]:
    """The course's live attempts (atoms whose live concept is in the course), by card then
    answer time, with each learner's time zone."""
    from apps.content.models import LearningAtom
    from apps.learning.models import Attempt

    atoms = LearningAtom.live_concepts.through.objects.filter(concept__course=course).values(
        "learningatom_id"
    )
    rows = (
        Attempt.objects.filter(atom_id__in=atoms, archived_in__isnull=True)
        .order_by("learner_id", "atom_id", "answered_at", "created_at", "id")
        .values_list("learner_id", "atom_id", "answered_at", "quality", "learner__timezone")
    )
    for learner_id, atom_id, answered_at, quality, timezone in rows.iterator(chunk_size=5000):
        yield AttemptRow((learner_id, atom_id), answered_at, quality, timezone or "UTC")


def course_review_histories(course, *, day_start_hour: int | None = None) -> list[ReviewHistory]:
    hour = day_start_hour if day_start_hour is not None else scheduler_day_start_hour()
    return review_histories(course_attempt_rows(course), day_start_hour=hour)


def scheduler_day_start_hour() -> int:
    """The hour learners' days start (``SCHEDULER_DAY_START_HOUR``, Anki's 4 by default)."""
    return settings.SCHEDULER_DAY_START_HOUR


def course_fsrs_fit(*, course, minimum_reviews: int | None = None, optimal_retention: bool = True):
    """Fit the course's FSRS weights from its attempts and record them as the next
    ``FittedModel`` version; in use only with at least ``minimum_reviews`` samples
    (``FSRS_MIN_REVIEWS``). Returns the version, or None when the course has no repeat review
    to learn from (nothing is recorded). Fitting the same attempts again returns the newest
    version unchanged.

    Metrics: fsrs-rs's log loss and RMSE(bins) of the fitted and of the default weights on the
    same reviews (in-sample), and the suggested ``optimal_retention`` for the fitted weights.
    """
    from .fitted import fitted_model_record
    from .models import FittedModel

    minimum = FSRS_MIN_REVIEWS if minimum_reviews is None else minimum_reviews
    histories = course_review_histories(course)
    samples = sum(1 for h in histories for _, elapsed in h[1:] if elapsed > 0)
    if samples == 0:
        return None
    weights = fsrs_parameters_fit(histories)
    fitted, default = fsrs_scores(histories, weights), fsrs_scores(histories, None)
    metrics = {
        **fitted,
        "default_log_loss": default["log_loss"],
        "default_rmse_bins": default["rmse_bins"],
        "cards": len(histories),
        "reviews": sum(len(h) for h in histories),
    }
    if optimal_retention:
        metrics["optimal_retention"] = round(
            fsrs_optimal_retention(weights, maximum_interval_days=course.maximum_interval_days), 4
        )
    parameters = {"w": weights, "day_start_hour": scheduler_day_start_hour()}
    latest = (
        FittedModel.objects.filter(kind="fsrs", course=course, concept=None)
        .order_by("-version")
        .first()
    )
    same = (parameters, samples, samples >= minimum)
    if latest and (latest.parameters, latest.samples, latest.in_use) == same:
        return latest  # the same attempts fitted again (a redelivered task): nothing new
    return fitted_model_record(
        kind="fsrs",
        course=course,
        parameters=parameters,
        samples=samples,
        minimum_samples=minimum,
        metrics=metrics,
    )


def course_fsrs_fits(*, course) -> tuple:
    """(the FSRS version in use, the newest FSRS version) of the course; either may be None."""
    from .fitted import fitted_model_in_use
    from .models import FittedModel

    newest = (
        FittedModel.objects.filter(kind="fsrs", course=course, concept=None)
        .order_by("-version")
        .first()
    )
    if newest is not None and newest.in_use:
        return newest, newest
    return fitted_model_in_use(kind="fsrs", course=course), newest
