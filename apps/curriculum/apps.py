from django.apps import AppConfig


class CurriculumConfig(AppConfig):
    name = "apps.curriculum"
    label = "curriculum"
    verbose_name = "Curriculum"

    def ready(self) -> None:
        from . import structure  # noqa: F401 - connects the graph's version bumps
