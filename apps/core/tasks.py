import socket

from celery import shared_task

from .services import worker_heartbeat_record


@shared_task(name="core.record_worker_heartbeat", bind=True, ignore_result=True)
def record_worker_heartbeat(self, token: str = "", **kwargs) -> None:
    worker = self.request.hostname or socket.gethostname()
    worker_heartbeat_record(worker=worker, token=token)
