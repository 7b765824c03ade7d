from django.apps import AppConfig


class LegacySyncConfig(AppConfig):
    name = "apps.legacy_sync"
    label = "legacy_sync"
    verbose_name = "Legacy migration"
