from django.apps import AppConfig

from .permissions import LEARNING_ROLE_PERMISSIONS


class LearningConfig(AppConfig):
    name = "apps.learning"
    label = "learning"
    verbose_name = "Learning"
    # Granted to the role groups by every role sync (apps/accounts/roles.py).
    role_permissions = LEARNING_ROLE_PERMISSIONS

    def ready(self) -> None:
        from apps.core.signals import learner_timezone_changed

        learner_timezone_changed.connect(_rollups_rebuild, dispatch_uid="learning_rollups_tz")


def _rollups_rebuild(sender, learner, **kwargs) -> None:
    """The statistics rollups count the learner's local days: recount them in the new zone
    (until then the attempt log answers, correctly but slowly)."""
    from .services.rollups import learner_rollups_rebuild

    learner_rollups_rebuild(learner_ids=[learner.pk])
