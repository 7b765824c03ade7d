"""Data migration: the Analysts role reads the event log in the admin and exports it
(apps/analytics/permissions.py)."""

from django.db import migrations


def grant(apps, schema_editor):
    from apps.accounts.roles import role_permissions_sync
    from apps.analytics.permissions import ANALYTICS_ROLE_PERMISSIONS

    role_permissions_sync(apps, ANALYTICS_ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("analytics", "0002_event_partitions"), ("accounts", "0002_role_groups")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
