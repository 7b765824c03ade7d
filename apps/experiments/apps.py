from django.apps import AppConfig

from .permissions import EXPERIMENTS_ROLE_PERMISSIONS


class ExperimentsConfig(AppConfig):
    name = "apps.experiments"
    label = "experiments"
    verbose_name = "Experiments"
    # Granted to the role groups by every role sync (apps/accounts/roles.py).
    role_permissions = EXPERIMENTS_ROLE_PERMISSIONS
