"""FSRS through py-fsrs (``fsrs`` 6.x, the Open Spaced Repetition reference implementation).

This module only adapts the package to the shape the scheduler stores: a JSON-serialisable
state dict (``fsrs.Card.to_dict()`` plus ``"algorithm": "fsrs"``) in, the next state dict and
its due time out. All scheduling arithmetic is the package's own ``Scheduler.review_card``.

Ratings are FSRS's 1..4 (Again, Hard, Good, Easy). Attempts graded with SM-2 qualities (0..5)
are mapped by :func:`quality_to_fsrs_rating`.

Elapsed time: py-fsrs counts whole 24-hour periods since the last review. Given the learner's
``timezone``, :func:`fsrs_review` counts calendar days instead (``calendar_days``: a day starts
at ``day_start_hour`` local time), as Anki and srs-benchmark do, so a review at 23:00 and the next
at 07:00 the following morning are one day apart, not a same-day (short-term) review.

Migrated SM-2 cards become FSRS memory states through fsrs-rs (``fsrs_rs_python``, the Rust
FSRS that Anki ships): :func:`memory_state_from_sm2`, :func:`fsrs_state_from_sm2`.
"""

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import fsrs_rs_python
from fsrs import Card, Rating, Scheduler, State
from fsrs.scheduler import DEFAULT_PARAMETERS

from .calendar_days import DEFAULT_DAY_START_HOUR, elapsed_days, local_day

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


def _aware(moment: datetime) -> datetime:
    """Stored SM-2 times are aware; a naive one (hand-made state) is read as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
    *,
    timezone: str | None = None,
    day_start_hour: int = DEFAULT_DAY_START_HOUR,
) -> tuple[dict, datetime]:
    """Review a card rated ``rating`` (1 Again .. 4 Easy) at ``reviewed_at``.

    Returns the new JSON-serialisable state and the next due time (UTC). Without ``fuzz`` the
    result is deterministic and equal to calling ``fsrs.Scheduler.review_card`` directly.

    With ``timezone`` (the learner's IANA zone), the days elapsed since the card's last review
    are the learner's calendar days: py-fsrs reads them as ``(reviewed_at - last_review).days``
    for both the short-term test and the retrievability, so the card is handed over with its
    last review moved to exactly that many whole days before ``reviewed_at``. The stored
    ``last_review`` is ``reviewed_at`` as always; only the elapsed count differs.
    """
    if rating not in (1, 2, 3, 4):
        raise ValueError(f"FSRS rating must be 1..4, got {rating}")
    reviewed_at = _utc(reviewed_at)
    scheduler = fsrs_scheduler(desired_retention, maximum_interval, fuzz, parameters)
    card = card_from_state(card_state, reviewed_at)
    if timezone is not None and card.last_review is not None:
        days = elapsed_days(card.last_review, reviewed_at, timezone, day_start_hour)
        card.last_review = reviewed_at - timedelta(days=days)
    card, _log = scheduler.review_card(card, Rating(rating), reviewed_at)
    if timezone is not None:
        card.due = _day_aligned(card.due, reviewed_at, timezone, day_start_hour)
    return card_to_state(card), card.due


def _day_aligned(due: datetime, reviewed_at: datetime, timezone: str, day_start_hour: int):
    """A due time whole days away becomes the start of that local day, as Anki schedules: a
    card reviewed at 23:00 with a one-day interval is due when the next day starts, not at
    23:00 tomorrow. Learning steps (minutes, hours) keep their exact time."""
    days = round((due - reviewed_at).total_seconds() / 86400)
    if days < 1 or abs((due - reviewed_at).total_seconds() - days * 86400) > 60:
        return due
    day = local_day(reviewed_at, timezone, day_start_hour) + timedelta(days=days)
    start = datetime.combine(day, time(day_start_hour), tzinfo=ZoneInfo(timezone))
    return start.astimezone(UTC)


def fsrs_rs_parameters(parameters: tuple[float, ...] | list[float] | None = None) -> list[float]:
    """The weights as fsrs-rs takes them (its defaults equal py-fsrs's FSRS-6 defaults)."""
    return [float(p) for p in (parameters or fsrs_rs_python.DEFAULT_PARAMETERS)]


@lru_cache(maxsize=32)
def _rs_model(parameters: tuple[float, ...]) -> fsrs_rs_python.FSRS:
    return fsrs_rs_python.FSRS(list(parameters))


def fsrs_rs_model(parameters: tuple[float, ...] | list[float] | None = None):
    """A (cached) ``fsrs_rs_python.FSRS`` with these weights (``None``: the defaults)."""
    return _rs_model(tuple(fsrs_rs_parameters(parameters)))


def memory_state_from_sm2(
    easiness: float,
    interval_days: float,
    parameters: tuple[float, ...] | list[float] | None = None,
    sm2_retention: float = 0.9,
) -> tuple[float, float]:
    """(stability, difficulty) of a card SM-2 scheduled ``interval_days`` ahead with ease
    ``easiness``: fsrs-rs's ``memory_state_from_sm2``, the conversion Anki runs when a deck
    switches to FSRS. ``sm2_retention`` is the recall rate SM-2 actually achieved (0.9 is
    Anki's assumption); the stability is the interval at which FSRS predicts that rate, so a
    card keeps (about) its SM-2 interval instead of restarting."""
    if interval_days <= 0:
        raise ValueError("an SM-2 card in learning (interval 0) has no memory state to convert")
    state = fsrs_rs_model(parameters).memory_state_from_sm2(
        float(easiness), float(interval_days), sm2_retention
    )
    return float(state.stability), float(state.difficulty)


def fsrs_state_from_sm2(
    sm2_state: dict,
    parameters: tuple[float, ...] | list[float] | None = None,
    sm2_retention: float = 0.9,
) -> dict:
    """The FSRS state dict (a Review card) for a stored SM-2 state dict, keeping its last
    review and due time; ``{}`` (a new card) when SM-2 never scheduled it past learning."""
    interval = float(sm2_state.get("interval_days") or 0)
    last = sm2_state.get("last_reviewed")
    due = sm2_state.get("due")
    if interval <= 0 or not due:
        return {}
    due_at = _aware(datetime.fromisoformat(due))
    last_at = _aware(datetime.fromisoformat(last)) if last else due_at - timedelta(days=interval)
    stability, difficulty = memory_state_from_sm2(
        sm2_state.get("easiness", 2.5), interval, parameters, sm2_retention
    )
    card = Card(
        card_id=NEW_CARD_ID,
        state=State.Review,
        step=None,
        stability=stability,
        difficulty=difficulty,
        due=_utc(due_at),
        last_review=_utc(last_at),
    )
    return card_to_state(card)


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
