from django.apps import AppConfig


class AchievementsConfig(AppConfig):
    name = "apps.achievements"
    label = "achievements"
    verbose_name = "Achievements"

    def ready(self) -> None:
        from apps.core.signals import learner_figures_changed

        from .services import figures_changed_receiver

        learner_figures_changed.connect(figures_changed_receiver, dispatch_uid="badges_check")
