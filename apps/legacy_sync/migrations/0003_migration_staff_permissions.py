"""Data migration: Migration staff may browse the backfill's records and fix quarantined rows."""

from django.db import migrations


def grant(apps, schema_editor):
    from apps.accounts.roles import role_permissions_sync

    role_permissions_sync(apps)


class Migration(migrations.Migration):
    dependencies = [("legacy_sync", "0002_backfill_bookkeeping"), ("accounts", "0003_user_origin")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
