from django.apps import AppConfig


class LeaguesConfig(AppConfig):
    name = "apps.leagues"
    label = "leagues"
    verbose_name = "Weekly leagues"

    def ready(self) -> None:
        from apps.core.signals import learner_leagues_opt_in_changed

        from .receivers import opt_in_changed

        learner_leagues_opt_in_changed.connect(opt_in_changed, dispatch_uid="leagues_opt_in")
