from django.apps import AppConfig

from .permissions import ANALYTICS_ROLE_PERMISSIONS


class AnalyticsConfig(AppConfig):
    name = "apps.analytics"
    label = "analytics"
    verbose_name = "Analytics events"
    # Granted to the role groups by every role sync (apps/accounts/roles.py).
    role_permissions = ANALYTICS_ROLE_PERMISSIONS
