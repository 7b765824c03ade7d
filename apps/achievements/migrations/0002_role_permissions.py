"""Data migration: Publishers manage badge definitions and read who earned which
(apps/accounts/roles.py)."""

from django.db import migrations


def grant(apps, schema_editor):
    from apps.accounts.roles import role_permissions_sync

    role_permissions_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("achievements", "0001_initial"), ("accounts", "0002_role_groups")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
