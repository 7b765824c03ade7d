"""Celery tasks for content. Thin: each takes ids and calls one service; all are idempotent."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="content.import_preview", acks_late=True, ignore_result=True)
def import_preview_task(job_id: str, **kwargs) -> None:
    from .models import ImportJob, ImportStatus
    from .services.imports import import_job_preview

    job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.PREVIEWING).first()
    if job is not None:  # gone, or already previewed: nothing to do
        import_job_preview(job=job)


@shared_task(name="content.import_apply", acks_late=True, ignore_result=True)
def import_apply_task(job_id: str, **kwargs) -> None:
    from .models import ImportJob, ImportStatus
    from .services.imports import import_job_apply

    job = ImportJob.objects.filter(pk=job_id, status=ImportStatus.IMPORTING).first()
    if job is not None:
        import_job_apply(job=job)


@shared_task(name="content.publish_scheduled", ignore_result=True)
def publish_scheduled_task(**kwargs) -> None:
    from .services.workflow import atoms_publish_scheduled

    published, archived = atoms_publish_scheduled()
    if published or archived:
        logger.info("Scheduled publishing: %d published, %d archived", published, archived)


@shared_task(name="content.item_statistics_refresh", ignore_result=True)
def item_statistics_refresh_task(**kwargs) -> None:
    from .services.statistics import item_statistics_refresh

    item_statistics_refresh()
