"""Review logs simulated from FSRS with known weights (fsrs-rs's own memory model), for the
FSRS fitting tests."""

import random
import uuid
from datetime import UTC, datetime, timedelta

import fsrs_rs_python

from apps.learning.models import Attempt

RATING_NAMES = ("again", "hard", "good", "easy")
QUALITY_OF_RATING = {1: 1, 2: 3, 3: 4, 4: 5}  # inverse of quality_to_fsrs_rating


def generating_weights() -> list[float]:
    """FSRS-6 weights far from the defaults: short first stabilities, a steeper curve, a
    bigger lapse penalty. The defaults score clearly worse on what they generate."""
    weights = list(fsrs_rs_python.DEFAULT_PARAMETERS)
    weights[0:4] = [0.1, 0.4, 1.2, 5.0]
    weights[8], weights[11], weights[20] = 0.8, 2.5, 0.6
    return [float(w) for w in fsrs_rs_python.check_and_fill_parameters(weights)]


def simulate_histories(weights, cards: int, seed: int, max_reviews: int = 12) -> list:
    """[(rating, days since the previous review)] per card: intervals FSRS would schedule at
    90% retention, stretched or shrunk at random (so recall varies), recall drawn from the
    forgetting curve, ratings of recalled reviews 15% Hard, 70% Good, 15% Easy."""
    rng = random.Random(seed)
    model = fsrs_rs_python.FSRS(list(weights))
    decay = weights[20]
    factor = 0.9 ** (-1 / decay) - 1
    histories = []
    for _ in range(cards):
        first = rng.choices([1, 2, 3, 4], [0.25, 0.1, 0.5, 0.15])[0]
        memory = getattr(model.next_states(None, 0.9, 0), RATING_NAMES[first - 1]).memory
        reviews, day = [(first, 0)], 0
        while day < 365 and len(reviews) < max_reviews:
            base = model.next_interval(memory.stability, 0.9, 3)
            interval = max(1, round(base * rng.uniform(0.3, 2.0)))
            recall = (1 + factor * interval / memory.stability) ** (-decay)
            rating = rng.choices([2, 3, 4], [0.15, 0.7, 0.15])[0] if rng.random() < recall else 1
            states = model.next_states(memory, 0.9, interval)
            memory = getattr(states, RATING_NAMES[rating - 1]).memory
            reviews.append((rating, interval))
            day += interval
        histories.append(reviews)
    return histories


def attempts_from_histories(histories, learners, atoms, *, start=None, seed=0) -> list:
    """Attempt rows for the histories, card i being (learner, atom) pair i: each review at a
    random hour of its day, and after some reviews a second attempt 10–60 minutes later the
    same day (which a fit must not count)."""
    rng = random.Random(seed)
    start = start or datetime(2025, 1, 6, tzinfo=UTC)
    pairs = [(learner, atom) for learner in learners for atom in atoms]
    assert len(pairs) >= len(histories)
    rows = []
    for (learner, atom), history in zip(pairs, histories, strict=False):
        day = 0
        for rating, elapsed in history:
            day += elapsed
            at = start + timedelta(days=day, hours=rng.uniform(6, 20))
            rows.append(_attempt(learner, atom, QUALITY_OF_RATING[rating], at))
            if rng.random() < 0.2:
                later = at + timedelta(minutes=rng.uniform(10, 60))
                rows.append(_attempt(learner, atom, 5, later))
    return Attempt.objects.bulk_create(rows, batch_size=2000)


def _attempt(learner, atom, quality, at) -> Attempt:
    return Attempt(
        learner=learner,
        atom=atom,
        revision_id=atom.published_revision_id,
        client_attempt_id=uuid.uuid4(),
        correct=quality >= 3,
        score=1.0 if quality >= 3 else 0.0,
        quality=quality,
        answered_at=at,
    )
