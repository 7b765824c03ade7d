"""The evaluation on the platform's own attempts, per course (the package's one Django module).

A *card* is a (learner, atom) pair; an attempt's rating is its SM-2 quality mapped to FSRS's
1..4 (``quality_to_fsrs_rating``: 0–2 Again, 3 Hard, 4 Good, 5 Easy), and its calendar day is
the learner's own (their time zone, the day-start hour). The protocol and models are those
of ``replay.evaluate_reviews``; the comparison is stored as a FittedModel of kind ``eval``
(``metrics = {"protocol", "n_train", "n_test", "models": {...}, "hlr": {...}}``).
"""

from apps.content.models import LearningAtom
from apps.learning.models import Attempt
from apps.scheduler.algorithms.calendar_days import DEFAULT_DAY_START_HOUR
from apps.scheduler.algorithms.fsrs_adapter import quality_to_fsrs_rating
from apps.scheduler.evaluation.replay import (
    DEFAULT_SPLIT,
    FSRS_DEFAULT,
    FSRS_FITTED,
    HLR,
    Evaluation,
    ReviewLog,
    day_number,
    evaluate_reviews,
    review_log,
)
from apps.scheduler.fitted import fitted_model_record
from apps.scheduler.models import FittedKind, FittedModel

# Fewer test reviews than this and the record stays history only (not shown as a finding).
EVALUATION_MINIMUM_TEST_REVIEWS = 200


def course_review_log(*, course, day_start_hour: int = DEFAULT_DAY_START_HOUR) -> ReviewLog:
    """The course's live attempts as a review log, one card per (learner, atom)."""
    atoms = LearningAtom.objects.filter(concepts__course=course).values("pk")
    attempts = (
        Attempt.objects.filter(archived_in__isnull=True, atom__in=atoms)
        .order_by("answered_at", "pk")
        .values_list("learner_id", "atom_id", "learner__timezone", "answered_at", "quality")
    )
    card_of: dict[tuple, int] = {}
    card_ids, ratings, times, days = [], [], [], []
    for learner_id, atom_id, timezone, answered_at, quality in attempts.iterator(chunk_size=5000):
        card_ids.append(card_of.setdefault((learner_id, atom_id), len(card_of)))
        ratings.append(quality_to_fsrs_rating(quality))
        times.append(answered_at.timestamp())
        days.append(day_number(answered_at, timezone or "UTC", day_start_hour))
    return review_log(card_ids, ratings, times, days)


def course_evaluation_record(
    *,
    course,
    split: float = DEFAULT_SPLIT,
    day_start_hour: int = DEFAULT_DAY_START_HOUR,
    minimum_samples: int = EVALUATION_MINIMUM_TEST_REVIEWS,
) -> tuple[Evaluation, FittedModel]:
    """Evaluate the models on the course's attempts and store the comparison (kind ``eval``).

    Raises ValueError when the course has too few repeat reviews to split."""
    evaluation = evaluate_reviews(
        course_review_log(course=course, day_start_hour=day_start_hour), split=split
    )
    metrics = {**evaluation.as_json(), "hlr": evaluation.hlr, "day_start_hour": day_start_hour}
    record = fitted_model_record(
        kind=FittedKind.EVALUATION,
        course=course,
        parameters={},
        samples=evaluation.n_test,
        minimum_samples=minimum_samples,
        metrics=metrics,
    )
    return evaluation, record


def hlr_versus_fsrs(metrics: dict | None) -> tuple[float, float] | None:
    """(HLR's, FSRS's) test log loss from an eval record's metrics when HLR validates worse
    than FSRS (fitted parameters if they were fitted, else the defaults); otherwise None."""
    models = (metrics or {}).get("models") or {}
    hlr = (models.get(HLR) or {}).get("log_loss")
    fsrs = (models.get(FSRS_FITTED) or models.get(FSRS_DEFAULT) or {}).get("log_loss")
    if hlr is None or fsrs is None or hlr <= fsrs:
        return None
    return float(hlr), float(fsrs)


def course_memory_model_flag(*, course) -> str | None:
    """The admin's warning when the course's newest evaluation (with enough test reviews) has
    HLR validating worse than FSRS on the course's own attempts; None otherwise."""
    latest = (
        FittedModel.objects.filter(
            kind=FittedKind.EVALUATION, course=course, concept__isnull=True, in_use=True
        )
        .order_by("-version")
        .values_list("metrics", flat=True)
        .first()
    )
    worse = hlr_versus_fsrs(latest)
    if worse is None:
        return None
    return (
        f"HLR validates worse than FSRS on this course's attempts (log loss {worse[0]:.3f} vs "
        f"{worse[1]:.3f}): use FSRS"
    )
