from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _roles_sync(sender, using, apps=None, **kwargs) -> None:
    """After every migrate (and every test flush, which empties the tables and sends no
    registry): the role groups and their permissions as apps/accounts/roles.py lists them."""
    from django.apps import apps as global_apps

    from .roles import role_permissions_sync

    role_permissions_sync(apps or global_apps, using=using)


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from .lockout import tokens_revoke_on_lockout

        user_locked_out.connect(tokens_revoke_on_lockout, dispatch_uid="accounts_lockout_tokens")
        post_migrate.connect(_roles_sync, sender=self, dispatch_uid="accounts_roles_sync")
