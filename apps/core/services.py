from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import AuditEvent, WorkerHeartbeat


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


def audit_record(
    *,
    actor,
    source: str,
    action: str,
    target,
    from_state: str = "",
    to_state: str = "",
    message: str = "",
    details: dict | None = None,
) -> AuditEvent:
    """Append one audit event about ``target`` (any model instance)."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        source=source,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:255],
        from_state=from_state,
        to_state=to_state,
        message=message,
        details=details or {},
    )
