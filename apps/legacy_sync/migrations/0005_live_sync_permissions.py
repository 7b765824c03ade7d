"""Data migration: Migration staff run the live sync (flags, outbox, conflicts, status)."""

from django.db import migrations


def grant(apps, schema_editor):
    from apps.accounts.roles import role_permissions_sync

    role_permissions_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("legacy_sync", "0004_live_sync")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
