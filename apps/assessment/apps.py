from django.apps import AppConfig

from .permissions import ASSESSMENT_ROLE_PERMISSIONS


class AssessmentConfig(AppConfig):
    name = "apps.assessment"
    label = "assessment"
    verbose_name = "Mock tests"
    # Granted to the role groups by every role sync (apps/accounts/roles.py).
    role_permissions = ASSESSMENT_ROLE_PERMISSIONS
