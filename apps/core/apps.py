from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Platform"

    def ready(self):
        from django.core.signals import request_finished, request_started

        from .cache_versions import request_tokens_begin, request_tokens_end

        request_started.connect(request_tokens_begin, dispatch_uid="cache_versions_begin")
        request_finished.connect(request_tokens_end, dispatch_uid="cache_versions_end")
