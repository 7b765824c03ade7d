"""Reactions to accounts' opt-in announcement (apps/core/signals.py), after its commit."""

import logging

from .services import league_learner_leave, leagues_place

logger = logging.getLogger(__name__)


def opt_in_changed(sender, learner, opted_in: bool, **kwargs) -> None:
    # The opt-in itself is committed; a placement that fails here is retried by the beat
    # (leagues.week_close places every learner who opted in), so it must not fail the request.
    # Opting out needs nothing from here to be private: reads filter on the opt-in.
    try:
        if opted_in:
            leagues_place(learner_ids=[learner.pk])
        else:
            league_learner_leave(learner=learner)
    except Exception:
        logger.exception("League placement after an opt-in change failed; the beat retries.")
