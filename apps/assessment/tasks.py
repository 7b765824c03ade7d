"""Celery tasks for mock tests. Thin and idempotent."""

import logging

from celery import shared_task

from apps.core.dispatch import RETRY_ON_TRANSIENT

logger = logging.getLogger(__name__)


@shared_task(name="assessment.mock_tests_expire", ignore_result=True, **RETRY_ON_TRANSIENT)
def mock_tests_expire_task(**kwargs) -> None:
    """Mark the tests whose time ran out (the beat). A redelivery finds them marked."""
    from .services import mock_tests_expired_submit

    marked = mock_tests_expired_submit()
    if marked:
        logger.info("Mock tests marked at the end of their time: %d", marked)
