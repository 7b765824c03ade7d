from django.apps import AppConfig


class LegacySyncConfig(AppConfig):
    name = "apps.legacy_sync"
    label = "legacy_sync"
    verbose_name = "Legacy migration"

    def ready(self) -> None:
        from apps.core.sync_port import sync_adapter_register

        from .live.adapter import LegacySyncAdapter

        sync_adapter_register(LegacySyncAdapter())
