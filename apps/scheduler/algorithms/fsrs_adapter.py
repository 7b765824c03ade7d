"""FSRS through py-fsrs (``fsrs`` 6.x, the Open Spaced Repetition reference implementation).

This module only adapts the package to the shape the scheduler stores: a JSON-serialisable
state dict (``fsrs.Card.to_dict()`` plus ``"algorithm": "fsrs"``) in, the next state dict and
its due time out. All scheduling arithmetic is the package's own ``Scheduler.review_card``.

Ratings are FSRS's 1..4 (Again, Hard, Good, Easy). Attempts graded with SM-2 qualities (0..5)
are mapped by :func:`quality_to_fsrs_rating`.
"""

from datetime import UTC, datetime
from functools import lru_cache

from fsrs import Card, Rating, Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS

ALGORITHM = "fsrs"
NEW_CARD_ID = 0  # the id does not influence scheduling; a fixed one keeps the state reproducible


def quality_to_fsrs_rating(quality: int) -> int:
    """Map an SM-2 quality (0..5) to an FSRS rating (1..4).

    ====================================================  ============
    SM-2 quality                                          FSRS rating
    ====================================================  ============
    0–2  incorrect (SM-2 resets the repetition count)    1  Again
    3    correct, but with serious difficulty             2  Hard
    4    correct after hesitation                         3  Good
    5    perfect response                                 4  Easy
    ====================================================  ============

    The cut at 3 is SM-2's own pass/fail boundary, so a review counts as a lapse in FSRS
    exactly when it would reset SM-2.
    """
    if not 0 <= quality <= 5:
        raise ValueError(f"quality must be 0..5, got {quality}")
    if quality <= 2:
        return int(Rating.Again)
    return quality - 1


@lru_cache(maxsize=32)
def _scheduler(
    parameters: tuple[float, ...], desired_retention: float, maximum_interval: int, fuzz: bool
) -> Scheduler:
    return Scheduler(
        parameters=parameters,
        desired_retention=desired_retention,
        maximum_interval=maximum_interval,
        enable_fuzzing=fuzz,
    )


def fsrs_scheduler(
    desired_retention: float = 0.9,
    maximum_interval: int = 36500,
    fuzz: bool = False,
    parameters: tuple[float, ...] | list[float] | None = None,
) -> Scheduler:
    """A (cached) ``fsrs.Scheduler``; ``parameters=None`` means the package defaults."""
    params = tuple(float(p) for p in (parameters or DEFAULT_PARAMETERS))
    return _scheduler(params, float(desired_retention), int(maximum_interval), bool(fuzz))


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return moment.astimezone(UTC)


def card_from_state(card_state: dict | None, reviewed_at: datetime | None = None) -> Card:
    """The ``fsrs.Card`` a state dict describes; a new card for ``None``/``{}`` or a state
    written by another algorithm (switching algorithms starts FSRS from scratch)."""
    if not card_state or card_state.get("algorithm", ALGORITHM) != ALGORITHM:
        due = _utc(reviewed_at) if reviewed_at else datetime.now(UTC)
        return Card(card_id=NEW_CARD_ID, due=due)
    return Card.from_dict(card_state)


def card_to_state(card: Card) -> dict:
    return {"algorithm": ALGORITHM, **card.to_dict()}


def fsrs_review(
    card_state: dict | None,
    rating: int,
    reviewed_at: datetime,
    desired_retention: float = 0.9,
    maximum_interval: int = 36500,
    fuzz: bool = False,
    parameters: tuple[float, ...] | list[float] | None = None,
) -> tuple[dict, datetime]:
    """Review a card rated ``rating`` (1 Again .. 4 Easy) at ``reviewed_at``.

    Returns the new JSON-serialisable state and the next due time (UTC). Without ``fuzz`` the
    result is deterministic and equal to calling ``fsrs.Scheduler.review_card`` directly.
    """
    if rating not in (1, 2, 3, 4):
        raise ValueError(f"FSRS rating must be 1..4, got {rating}")
    reviewed_at = _utc(reviewed_at)
    scheduler = fsrs_scheduler(desired_retention, maximum_interval, fuzz, parameters)
    card, _log = scheduler.review_card(
        card_from_state(card_state, reviewed_at), Rating(rating), reviewed_at
    )
    return card_to_state(card), card.due


def fsrs_retrievability(
    card_state: dict | None,
    at: datetime,
    *,
    exact_elapsed: bool = False,
    parameters: tuple[float, ...] | list[float] | None = None,
) -> float:
    """Probability of recall of the card at ``at`` (0.0 for a card never reviewed).

    By default this is ``Scheduler.get_card_retrievability``, which counts elapsed time in
    whole days (a card reviewed an hour ago has retrievability 1). ``exact_elapsed=True``
    evaluates the same FSRS power forgetting curve, R(t) = (1 + F·t/S)^(−w₂₀) with
    F = 0.9^(−1/w₂₀) − 1, at the fractional number of days instead; the replay evaluation
    uses it because learning-step reviews come minutes apart.
    """
    scheduler = fsrs_scheduler(parameters=parameters)
    card = card_from_state(card_state, at)
    if not card_state or card.last_review is None or card.stability is None:
        return 0.0
    at = _utc(at)
    if not exact_elapsed:
        return float(scheduler.get_card_retrievability(card, at))
    decay = -scheduler.parameters[20]
    factor = 0.9 ** (1 / decay) - 1
    elapsed_days = max(0.0, (at - card.last_review).total_seconds() / 86400.0)
    return float((1 + factor * elapsed_days / card.stability) ** decay)


def fsrs_interval_days(card_state: dict) -> float:
    """Days from the card's last review to its due time."""
    card = Card.from_dict(card_state)
    if card.last_review is None:
        return 0.0
    return (card.due - card.last_review).total_seconds() / 86400.0
