from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import WorkerHeartbeat


def worker_heartbeat_record(*, worker: str, token: str = "") -> WorkerHeartbeat:
    """Upsert the worker's heartbeat row; safe to run concurrently and repeatedly."""
    with transaction.atomic():
        heartbeat, created = WorkerHeartbeat.objects.select_for_update().get_or_create(
            worker=worker,
            defaults={"last_seen_at": timezone.now(), "last_token": token, "beats": 1},
        )
        if not created:
            WorkerHeartbeat.objects.filter(pk=heartbeat.pk).update(
                last_seen_at=timezone.now(), last_token=token, beats=F("beats") + 1
            )
            heartbeat.refresh_from_db()
    return heartbeat
