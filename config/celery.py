"""The Celery app. Configuration comes from Django settings (the CELERY_* names)."""

import os

from celery import Celery

# Servers and workers run production settings unless told otherwise (make worker says dev).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("adaptive")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
