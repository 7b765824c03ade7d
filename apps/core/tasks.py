import socket

from celery import shared_task

from .dispatch import RETRY_ON_TRANSIENT
from .services import worker_heartbeat_record


@shared_task(
    name="core.record_worker_heartbeat", bind=True, ignore_result=True, **RETRY_ON_TRANSIENT
)
def record_worker_heartbeat(self, token: str = "", **kwargs) -> None:
    """Record that this worker is alive (readiness). A redelivery records it again."""
    worker = self.request.hostname or socket.gethostname()
    worker_heartbeat_record(worker=worker, token=token)
