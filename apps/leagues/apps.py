from django.apps import AppConfig

from .permissions import LEAGUES_ROLE_PERMISSIONS


class LeaguesConfig(AppConfig):
    name = "apps.leagues"
    label = "leagues"
    verbose_name = "Weekly leagues"
    # Granted to the role groups by every role sync (apps/accounts/roles.py).
    role_permissions = LEAGUES_ROLE_PERMISSIONS

    def ready(self) -> None:
        from apps.core.signals import learner_leagues_opt_in_changed

        from .receivers import opt_in_changed

        learner_leagues_opt_in_changed.connect(opt_in_changed, dispatch_uid="leagues_opt_in")
