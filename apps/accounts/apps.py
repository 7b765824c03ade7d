from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from .lockout import tokens_revoke_on_lockout

        user_locked_out.connect(tokens_revoke_on_lockout, dispatch_uid="accounts_lockout_tokens")
