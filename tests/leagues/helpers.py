"""Learners who opt in, and XP at a given moment, for the league tests."""

from datetime import datetime

from apps.accounts.services import user_update_profile
from apps.learning.models import XPEvent, XPReason
from tests.accounts.factories import UserFactory


def learner(name: str, timezone: str = "Europe/London", **fields):
    return UserFactory(display_name=name, timezone=timezone, **fields)


def opt_in(user, capture, *, opted_in: bool = True):
    """Opt in (or out) through the accounts service, running its after-commit placement."""
    with capture(execute=True):
        user_update_profile(user=user, leagues_opt_in=opted_in)
    user.refresh_from_db()
    return user


def earn(user, amount: int, at: datetime) -> XPEvent:
    return XPEvent.objects.create(
        learner=user, amount=amount, reason=XPReason.ATTEMPT, occurred_at=at
    )
