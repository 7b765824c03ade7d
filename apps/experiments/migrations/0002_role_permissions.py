"""Data migration: Publishers define experiments and read their analysis; Analysts read the
analysis (apps/experiments/permissions.py)."""

from django.db import migrations


def grant(apps, schema_editor):
    from apps.accounts.roles import role_permissions_sync
    from apps.experiments.permissions import EXPERIMENTS_ROLE_PERMISSIONS

    role_permissions_sync(apps, EXPERIMENTS_ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("experiments", "0001_initial"),
        ("accounts", "0002_role_groups"),
        ("analytics", "0003_role_permissions"),  # the Analysts group exists
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
