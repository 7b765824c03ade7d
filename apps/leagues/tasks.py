"""Celery tasks for weekly leagues. Thin and idempotent."""

import logging

from celery import shared_task

from apps.core.dispatch import RETRY_ON_TRANSIENT

logger = logging.getLogger(__name__)


@shared_task(name="leagues.week_close", ignore_result=True, acks_late=True, **RETRY_ON_TRANSIENT)
def leagues_week_close_task(**kwargs) -> None:
    """Close the leagues whose week ended and place learners into this week's (the beat).
    A redelivery finds them closed and placed, and does nothing."""
    from .services import leagues_week_close

    result = leagues_week_close()
    if result["closed"] or result["placed"]:
        logger.info("Leagues closed: %(closed)d; learners placed: %(placed)d", result)
