"""Celery tasks for content. Thin: each takes ids and calls one service; all are idempotent."""

import logging

from celery import shared_task

from apps.core.dispatch import RETRY_ON_TRANSIENT

logger = logging.getLogger(__name__)


@shared_task(
    name="content.import_preview", acks_late=True, ignore_result=True, **RETRY_ON_TRANSIENT
)
def import_preview_task(job_id: str, **kwargs) -> None:
    """Dry-run an uploaded file. A redelivery finds the job previewed already and does
    nothing; a job whose preview breaks is marked failed by the service, with the reason."""
    from .models import ImportJob, ImportStatus
    from .services.imports import import_job_preview

    job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.PREVIEWING).first()
    if job is not None:  # gone, or already previewed: nothing to do
        import_job_preview(job=job)


@shared_task(name="content.import_apply", acks_late=True, ignore_result=True, **RETRY_ON_TRANSIENT)
def import_apply_task(job_id: str, **kwargs) -> None:
    """Apply a confirmed import. A redelivery of a finished job does nothing; one cut short
    re-plans every row against the database as it is, so rows already applied are unchanged."""
    from .models import ImportJob, ImportStatus
    from .services.imports import import_job_apply

    job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.IMPORTING).first()
    if job is not None:
        import_job_apply(job=job)


@shared_task(name="content.publish_scheduled", ignore_result=True, **RETRY_ON_TRANSIENT)
def publish_scheduled_task(**kwargs) -> None:
    """Publish and archive what is due (the beat). A redelivery finds nothing more due."""
    from .services.workflow import atoms_publish_scheduled

    published, archived = atoms_publish_scheduled()
    if published or archived:
        logger.info("Scheduled publishing: %d published, %d archived", published, archived)


@shared_task(name="content.item_statistics_refresh", ignore_result=True, **RETRY_ON_TRANSIENT)
def item_statistics_refresh_task(**kwargs) -> None:
    """Recompute item statistics from attempts (the beat). A redelivery computes the same."""
    from .services.statistics import item_statistics_refresh

    item_statistics_refresh()
