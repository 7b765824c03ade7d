"""Data migration: Authors may read learners' scheduler states, the fitted models and the
memory page (apps/accounts/roles.py)."""

from django.db import migrations


def grant(apps, schema_editor):
    from apps.accounts.roles import role_permissions_sync

    role_permissions_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("scheduler", "0006_fitted_model"), ("accounts", "0004_user_tokens_valid_after")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
